"""Write the raw seed CSVs of the example warehouse (deterministic, Python stdlib only).

Run from anywhere: ``python dbt_examples/generate_seeds.py``. The output is the same on every run
(fixed random seed, no clock), so the committed CSVs can be regenerated and diffed.

Seeds (every value is text; dbt loads them as ``varchar`` and the staging models clean and cast):

- ``raw_companies.csv``: 300 companies, ``id`` 1..300.
- ``raw_contacts.csv``: 3,000 distinct people plus duplicate rows (same email, other casing/whitespace).
- ``raw_deals.csv``: 400 deals, ``id`` 1..400.
- ``raw_deal_contacts.csv``: deal ↔ contact links, 0-3 contacts per deal.

Dirty rows, on purpose (the staging models fix what can be fixed):

- whitespace around names, emails, cities, countries, websites, deal names;
- odd casing in emails, names, countries, websites, industry/lifecycle/stage labels;
- duplicate contacts: :data:`DUPLICATE_CONTACTS` extra rows whose email matches an earlier row up to
  case and whitespace (dbt keeps the most recently updated row of each email);
- contacts and companies with missing names; companies without a website;
- contacts without a company, and :data:`ORPHAN_COMPANY_REFS` contacts pointing at company ids that do
  not exist (dbt sets their ``company_key`` to null);
- :data:`INVALID_EMAILS` contacts whose email no cleaning can fix (``john.smith@``,
  ``no-at-sign.example.com``, ...). They survive into ``hubspot_contacts`` on purpose, for the
  loader's per-row error reporting; the dbt email-format test only warns about them;
- employee counts and amounts written with thousands separators, blank numbers, unparseable dates;
- deal links to duplicate contact rows (dbt re-points them to the surviving contact).

Only reserved example domains are used (``*.example.com``, ``*.example.org``, ``*.example.net``) and
fictional phone numbers (``555-01xx`` in North America).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

SEED = 20261128
SEEDS_DIR = Path(__file__).resolve().parent / "seeds"

N_COMPANIES = 300
N_CONTACTS = 3000
N_DEALS = 400
DUPLICATE_CONTACTS = 24
ORPHAN_COMPANY_REFS = 5
INVALID_EMAILS = 10

EPOCH = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
NOW = dt.datetime(2026, 10, 31, tzinfo=dt.timezone.utc)

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily",
    "Paul", "Michelle", "Andrew", "Amanda", "Joshua", "Melissa", "Kenneth", "Deborah", "Kevin", "Laura",
    "Brian", "Rebecca", "Oliver", "Sophie", "Lucas", "Amelie", "Mateo", "Lucia", "Hiroshi", "Yuki",
    "Priya", "Arjun", "Chen", "Mei", "Kwame", "Amara", "Lars", "Ingrid", "Jean-Luc", "Anne-Marie",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "O'Brien", "Müller", "Schmidt", "Dubois", "Rossi", "Tanaka", "Sato", "Patel", "Sharma", "Wang",
    "Mensah", "Larsen", "Van Dijk", "Smith-Jones", "Kowalski", "Novak", "Silva", "Costa", "Murphy", "Kelly",
]
NAME_WORDS_A = [
    "Blue", "North", "Bright", "Silver", "Granite", "Cedar", "Summit", "Harbor", "Pioneer", "Maple",
    "Crescent", "Atlas", "Lumen", "Vertex", "Orbit", "Beacon", "Evergreen", "Copper", "Falcon", "Prairie",
]
NAME_WORDS_B = [
    "Analytics", "Systems", "Labs", "Health", "Partners", "Retail", "Logistics", "Software", "Capital",
    "Learning", "Media", "Networks", "Foods", "Energy", "Studio",
]
NAME_SUFFIXES = ["", "", "", " Inc", " LLC", " Ltd", " GmbH", " Group", " Co"]
TLDS = ["example.com", "example.org", "example.net"]
FREE_MAIL = ["mail.example.com", "inbox.example.org", "post.example.net"]

# (raw label variants, HubSpot internal value); the last entry has no HubSpot mapping on purpose.
INDUSTRIES = [
    (["Computer Software", "computer software", "Software"], "COMPUTER_SOFTWARE"),
    (["Accounting", "ACCOUNTING"], "ACCOUNTING"),
    (["Information Technology and Services", "IT Services", "it services"],
     "INFORMATION_TECHNOLOGY_AND_SERVICES"),
    (["Financial Services", "financial services", "Finance"], "FINANCIAL_SERVICES"),
    (["Hospital & Health Care", "Healthcare", "health care"], "HOSPITAL_HEALTH_CARE"),
    (["Retail", "retail "], "RETAIL"),
    (["Marketing and Advertising", "Marketing & Advertising"], "MARKETING_AND_ADVERTISING"),
    (["Education Management", "Education"], "EDUCATION_MANAGEMENT"),
]
UNMAPPED_INDUSTRY = "Space Tourism"

CITIES = [
    ("New York", "United States", "+1 212-555-01{:02d}"),
    ("Austin", "United States", "+1 512-555-01{:02d}"),
    ("Toronto", "Canada", "+1 416-555-01{:02d}"),
    ("London", "United Kingdom", "+44 20 7946 0{:03d}"),
    ("Manchester", "United Kingdom", "+44 161 496 0{:03d}"),
    ("Berlin", "Germany", "+49 30 555 01{:02d}"),
    ("Paris", "France", "+33 1 55 55 01 {:02d}"),
    ("Amsterdam", "Netherlands", "+31 20 555 01{:02d}"),
    ("Sydney", "Australia", "+61 2 5550 01{:02d}"),
    ("Dublin", "Ireland", "+353 1 555 01{:02d}"),
]

LIFECYCLE_LABELS = [
    (["Subscriber", "subscriber"], 2),
    (["Lead", "lead", "LEAD"], 5),
    (["Marketing Qualified Lead", "MQL", "marketing qualified lead"], 3),
    (["Sales Qualified Lead", "SQL"], 2),
    (["Opportunity", "opportunity"], 2),
    (["Customer", " customer ", "CUSTOMER"], 3),
]
JOB_TITLES = [
    "CEO", "CTO", "CFO", "VP Sales", "Head of Marketing", "Data Engineer", "Analytics Engineer",
    "Account Executive", "Product Manager", "Office Manager", "Software Engineer", "Controller",
    "Operations Lead", "Customer Success Manager", "Procurement Specialist",
]
VIP_VALUES = ["true", "false", "TRUE", "False", "Y", "N", "yes", "no", "1", "0", ""]
DEAL_STAGES = [
    ("Appointment Scheduled", 3), ("Qualified To Buy", 3), ("presentation scheduled", 2),
    ("Decision Maker Bought-In", 2), ("Contract Sent", 2), ("Closed Won", 4), ("closed lost", 3),
    ("CLOSED WON", 1),
]
PRODUCTS = ["Annual license", "Expansion", "Renewal", "Pilot", "Onboarding package", "Support plan"]


def _iso(ts: dt.datetime, rng: random.Random) -> str:
    """Render a timestamp in one of the formats raw systems mix (UTC ``Z``, an offset, naive UTC)."""
    style = rng.random()
    if style < 0.6:
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style < 0.85:
        offset = dt.timezone(dt.timedelta(hours=rng.choice([-5, 1, 2, 9])))
        return ts.astimezone(offset).isoformat(timespec="seconds")
    return ts.strftime("%Y-%m-%d %H:%M:%S")  # naive: the warehouse treats it as UTC


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    seconds = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randrange(seconds))


def _odd_case(text: str, rng: random.Random) -> str:
    """UPPER, lower or aLtErNaTiNg casing."""
    pick = rng.random()
    if pick < 0.4:
        return text.upper()
    if pick < 0.7:
        return text.lower()
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


def _pad(text: str, rng: random.Random) -> str:
    return rng.choice([" ", "  ", "\t", ""]) + text + rng.choice([" ", "  ", ""])


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    SEEDS_DIR.mkdir(exist_ok=True)
    with (SEEDS_DIR / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate_companies(rng: random.Random) -> list[dict[str, str]]:
    """Return the raw company rows (``id`` as text, 1-based)."""
    pairs = [(a, b) for a in NAME_WORDS_A for b in NAME_WORDS_B]
    rng.shuffle(pairs)
    companies: list[dict[str, str]] = []
    for i, (a, b) in enumerate(pairs[:N_COMPANIES], start=1):
        name = f"{a} {b}{rng.choice(NAME_SUFFIXES)}"
        city, country, phone_fmt = rng.choice(CITIES)
        domain = f"{_slug(a + b)}.{rng.choice(TLDS)}"
        website = rng.choice([f"https://www.{domain}/", f"http://{domain}", f"www.{domain}", domain,
                              f"https://{domain}/about"])
        if rng.random() < 0.1:
            website = _odd_case(website, rng)
        if rng.random() < 0.08:
            website = _pad(website, rng)
        raw_name = name
        if rng.random() < 0.08:
            raw_name = _pad(name.replace(" ", rng.choice([" ", "  "])), rng)
        labels, _ = rng.choice(INDUSTRIES)
        industry = rng.choice(labels)
        roll = rng.random()
        if roll < 0.05:
            industry = ""
        elif roll < 0.07:
            industry = UNMAPPED_INDUSTRY
        employees = rng.choice([5, 12, 25, 40, 80, 150, 320, 750, 1200, 4500, 12000])
        employees_text = f"{employees:,}" if employees >= 1000 and rng.random() < 0.5 else str(employees)
        revenue = round(employees * rng.uniform(60_000, 250_000), -3)
        companies.append({
            "id": str(i),
            "company_name": raw_name,
            "website": website,
            "industry": industry,
            "city": _pad(city, rng) if rng.random() < 0.1 else city,
            "country": _odd_case(country, rng) if rng.random() < 0.1 else country,
            "phone": phone_fmt.format(rng.randrange(100)) if rng.random() < 0.85 else "",
            "employees": employees_text if rng.random() < 0.9 else "",
            "annual_revenue": f"{revenue:.2f}" if rng.random() < 0.85 else "",
            "founded": str(rng.randrange(1950, 2024)) if rng.random() < 0.9 else "",
            "updated_at": _iso(_between(rng, EPOCH, NOW), rng),
        })
    # Companies without a name (they keep a website) and without a website (they keep a name).
    for row in rng.sample(companies, 6):
        row["company_name"] = rng.choice(["", "  "])
    for row in rng.sample([c for c in companies if c["company_name"].strip()], 8):
        row["website"] = ""
    return companies


def _invalid_email(first: str, last: str, k: int) -> str:
    """An email no trimming or lower-casing can repair (fails the loader's and dbt's pattern)."""
    local = f"{_slug(first)}.{_slug(last)}"
    forms = [
        f"{local}@",                      # nothing after @
        f"no-at-sign.{local}.example.com",  # no @ at all
        f"{local}@@example.com",          # two @
        f"{_slug(first)} {_slug(last)}@example.com",  # a space inside
        f"{local}@example",               # no dot in the domain
        f"{_slug(first)};{_slug(last)}@example.org",  # a separator
        f"{local}@example.com.",          # trailing dot
        f"@{local}.example.net",          # empty local part
        f"{local}@example,com",           # comma instead of dot
        f"{local}(at)example.com",        # obfuscated
    ]
    return forms[k % len(forms)]


def generate_contacts(
    rng: random.Random, companies: list[dict[str, str]]
) -> tuple[list[dict[str, str]], dict[int, int]]:
    """Return the raw contact rows and, per duplicate row id, the id of the row it duplicates."""
    company_domains = {
        int(c["id"]): c["website"].strip().lower().split("//")[-1].removeprefix("www.").split("/")[0]
        for c in companies
    }
    company_places = {int(c["id"]): (c["city"].strip(), c["country"].strip().title()) for c in companies}
    contacts: list[dict[str, str]] = []
    seen: set[str] = set()
    invalid_ids = set(rng.sample(range(1, N_CONTACTS + 1), INVALID_EMAILS))
    orphan_ids = set(rng.sample(sorted(set(range(1, N_CONTACTS + 1)) - invalid_ids), ORPHAN_COMPANY_REFS))
    invalid_k = 0
    for i in range(1, N_CONTACTS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company_id = rng.randrange(1, N_COMPANIES + 1) if rng.random() < 0.85 else None
        domain = company_domains.get(company_id or 0) or rng.choice(FREE_MAIL)
        base = f"{_slug(first)}.{_slug(last)}"
        email = f"{base}@{domain}"
        n = 2
        while email in seen:
            email = f"{base}{n}@{domain}"
            n += 1
        seen.add(email)
        if i in invalid_ids:
            email = _invalid_email(first, last, invalid_k)
            invalid_k += 1
        else:
            roll = rng.random()
            if roll < 0.04:
                email = _odd_case(email, rng)
            elif roll < 0.08:
                email = _pad(email, rng)
            elif roll < 0.10:
                email = _pad(_odd_case(email, rng), rng)
        raw_first, raw_last = first, last
        roll = rng.random()
        if roll < 0.04:
            raw_first, raw_last = _odd_case(first, rng), _odd_case(last, rng)
        elif roll < 0.08:
            raw_first, raw_last = _pad(first, rng), _pad(last, rng)
        roll = rng.random()
        if roll < 0.02:
            raw_first = ""
        elif roll < 0.03:
            raw_last = " "
        elif roll < 0.035:
            raw_first, raw_last = "", ""
        if company_id is not None:
            city, country = company_places[company_id]
        else:
            city, country, _ = rng.choice(CITIES)
        if rng.random() < 0.05:
            country = _odd_case(country, rng)
        if rng.random() < 0.05:
            city = _pad(city, rng)
        _, _, phone_fmt = rng.choice(CITIES)
        labels, _ = rng.choices(LIFECYCLE_LABELS, weights=[w for _, w in LIFECYCLE_LABELS])[0]
        signed_up = _between(rng, EPOCH, NOW - dt.timedelta(days=30))
        birth = ""
        roll = rng.random()
        if roll < 0.65:
            birth = (dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(365 * 48))).isoformat()
        elif roll < 0.67:
            birth = rng.choice(["unknown", "0000-00-00", "n/a"])
        raw_company = str(company_id) if company_id is not None else ""
        if i in orphan_ids:
            raw_company = str(9000 + i % 1000)
        contacts.append({
            "id": str(i),
            "email": email,
            "first_name": raw_first,
            "last_name": raw_last,
            "phone": phone_fmt.format(rng.randrange(100)) if rng.random() < 0.7 else "",
            "job_title": rng.choice(JOB_TITLES) if rng.random() < 0.8 else "",
            "lifecycle_stage": rng.choice(labels),
            "city": city,
            "country": country,
            "company_id": raw_company,
            "signed_up_at": _iso(signed_up, rng),
            "date_of_birth": birth,
            "is_vip": rng.choice(VIP_VALUES) if rng.random() < 0.3 else rng.choice(["false", "", "N"]),
            "updated_at": _iso(_between(rng, signed_up, NOW), rng),
        })
    # Duplicates: the same email (other casing/whitespace) under a new id, updated before or after.
    duplicates: dict[int, int] = {}
    candidates = [c for c in contacts if int(c["id"]) not in invalid_ids]
    originals = rng.sample(candidates, DUPLICATE_CONTACTS - 4)
    originals += originals[:4]  # four emails appear three times
    next_id = N_CONTACTS + 1
    for original in originals:
        dup = dict(original)
        dup["id"] = str(next_id)
        dup["email"] = _pad(_odd_case(original["email"].strip(), rng), rng)
        dup["job_title"] = rng.choice(JOB_TITLES)
        dup["lifecycle_stage"] = rng.choice(["Customer", "Opportunity", "lead"])
        shift = dt.timedelta(days=rng.randrange(1, 200), seconds=rng.randrange(86400))
        dup["updated_at"] = (
            NOW + shift if rng.random() < 0.5 else EPOCH - shift
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        duplicates[next_id] = int(original["id"])
        contacts.append(dup)
        next_id += 1
    return contacts, duplicates


def generate_deals(
    rng: random.Random, companies: list[dict[str, str]], contacts: list[dict[str, str]],
    duplicates: dict[int, int],
) -> tuple[list[dict[str, str]], list[list[str]]]:
    """Return the raw deal rows and the deal-contact link rows."""
    by_company: dict[str, list[str]] = {}
    for c in contacts:
        if c["company_id"]:
            by_company.setdefault(c["company_id"], []).append(c["id"])
    all_ids = [c["id"] for c in contacts]
    deals: list[dict[str, str]] = []
    links: list[list[str]] = []
    for i in range(1, N_DEALS + 1):
        company = rng.choice(companies) if rng.random() < 0.9 else None
        company_name = company["company_name"].strip() if company else ""
        product = rng.choice(PRODUCTS)
        dealname = f"{company_name} - {product}" if company_name else f"{product} #{i}"
        if rng.random() < 0.08:
            dealname = _pad(dealname, rng)
        amount = rng.choice([1500, 4800, 9900, 12000, 25000, 48000, 75000, 120000]) * rng.uniform(0.8, 1.2)
        amount_text = f"{amount:,.2f}" if rng.random() < 0.15 else f"{amount:.2f}"
        stage = rng.choices(DEAL_STAGES, weights=[w for _, w in DEAL_STAGES])[0][0]
        close = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(365 * 3))
        deals.append({
            "id": str(i),
            "deal_name": dealname,
            "amount": amount_text if rng.random() < 0.9 else "",
            "stage": stage,
            "close_date": close.isoformat(),
            "company_id": company["id"] if company else "",
        })
        pool = by_company.get(company["id"], []) if company else []
        if not pool:
            pool = all_ids
        k = rng.choices([0, 1, 2, 3], weights=[2, 4, 3, 2])[0]
        for contact_id in rng.sample(pool, min(k, len(pool))):
            links.append([str(i), contact_id])
    # A few links that point at a duplicate row, and one deal linked to both rows of a duplicate.
    dup_ids = sorted(duplicates)
    for deal_id, dup_id in zip(range(N_DEALS - 3, N_DEALS + 1), dup_ids[:4], strict=True):
        links = [link for link in links if link[0] != str(deal_id)]
        links.append([str(deal_id), str(dup_id)])
    links.append([str(N_DEALS), str(duplicates[dup_ids[3]])])
    links.sort(key=lambda link: (int(link[0]), int(link[1])))
    return deals, links


def main() -> None:
    """Generate all seed files into ``dbt_examples/seeds/``."""
    rng = random.Random(SEED)
    companies = generate_companies(rng)
    contacts, duplicates = generate_contacts(rng, companies)
    deals, links = generate_deals(rng, companies, contacts, duplicates)
    _write("raw_companies.csv", list(companies[0]), [list(r.values()) for r in companies])
    _write("raw_contacts.csv", list(contacts[0]), [list(r.values()) for r in contacts])
    _write("raw_deals.csv", list(deals[0]), [list(r.values()) for r in deals])
    _write("raw_deal_contacts.csv", ["deal_id", "contact_id"], links)
    print(f"wrote {len(companies)} companies, {len(contacts)} contacts "
          f"({len(duplicates)} duplicate rows), {len(deals)} deals, {len(links)} deal-contact links "
          f"to {SEEDS_DIR}")


if __name__ == "__main__":
    main()
