{#- Text cleaning helpers shared by the staging models (DuckDB SQL). -#}

{% macro strip(expr) -%}
    {#- Remove leading and trailing whitespace of any kind (DuckDB's trim() only removes spaces). -#}
    regexp_replace({{ expr }}, '^\s+|\s+$', '', 'g')
{%- endmacro %}

{% macro clean_text(expr) -%}
    {#- Trim, collapse inner whitespace (tabs included) to one space; empty → null. -#}
    nullif(trim(regexp_replace({{ expr }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{% macro proper_case(expr) -%}
    {#- Cleaned text with each word capitalised after a space, hyphen or apostrophe:
        '  jOHN-paul o''BRIEN ' → 'John-Paul O''Brien'. -#}
    array_to_string(
        list_transform(
            string_split(lower({{ clean_text(expr) }}), ''),
            lambda ch, i: case
                when i = 1 or string_split(lower({{ clean_text(expr) }}), '')[i - 1] in (' ', '-', '''')
                    then upper(ch)
                else ch
            end
        ),
        ''
    )
{%- endmacro %}

{% macro letters_only(expr) -%}
    {#- Lower-case letters only, for matching free-text labels: 'Decision Maker Bought-In' → 'decisionmakerboughtin'. -#}
    regexp_replace(lower(coalesce({{ expr }}, '')), '[^a-z]', '', 'g')
{%- endmacro %}

{% macro parse_number(expr) -%}
    {#- Text with thousands separators or a currency sign → double; anything unparseable → null. -#}
    try_cast(regexp_replace({{ strip(expr) }}, '[,$€£\s]', '', 'g') as double)
{%- endmacro %}

{% macro parse_utc_timestamp(expr) -%}
    {#- ISO 8601 text → timestamptz. Text with 'Z' or an offset keeps it; naive text is taken as UTC. -#}
    case
        when regexp_matches({{ strip(expr) }}, '(Z|[+-]\d{2}:?\d{2})$')
            then try_cast({{ strip(expr) }} as timestamptz)
        else timezone('UTC', try_cast({{ strip(expr) }} as timestamp))
    end
{%- endmacro %}

{% macro warehouse_key(prefix, id_expr) -%}
    {#- Source integer id → warehouse key string: warehouse_key('CT', '42') → 'CT-00042'. -#}
    '{{ prefix }}-' || lpad(cast(cast({{ strip(id_expr) }} as integer) as varchar), 5, '0')
{%- endmacro %}
