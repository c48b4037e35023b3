{#- Rows whose non-null column value does not match a regular expression (RE2, DuckDB regexp_full_match). -#}
{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not regexp_full_match({{ column_name }}, '{{ pattern | replace("'", "''") }}')
{% endtest %}
