"""Convert UCI's ``german.data`` into ``german_credit.csv`` with readable column names and values.

Usage: ``python make_german_credit.py path/to/german.data [out.csv]`` (the output defaults to
``german_credit.csv`` next to this script). Not run at import; kept so the bundled file can be
rebuilt and checked against the original. The value texts follow ``german.doc``.
"""

import csv
import sys
from pathlib import Path

# (column name, {code: readable value}) in the order of german.data; None marks a numeric column.
COLUMNS = [
    ("checking_account", {
        "A11": "< 0 DM",
        "A12": "0 <= ... < 200 DM",
        "A13": ">= 200 DM / salary assignments for at least 1 year",
        "A14": "no checking account",
    }),
    ("duration_months", None),
    ("credit_history", {
        "A30": "no credits taken / all credits paid back duly",
        "A31": "all credits at this bank paid back duly",
        "A32": "existing credits paid back duly till now",
        "A33": "delay in paying off in the past",
        "A34": "critical account / other credits existing (not at this bank)",
    }),
    ("purpose", {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "others",
    }),
    ("credit_amount", None),
    ("savings", {
        "A61": "< 100 DM",
        "A62": "100 <= ... < 500 DM",
        "A63": "500 <= ... < 1000 DM",
        "A64": ">= 1000 DM",
        "A65": "unknown / no savings account",
    }),
    ("employment_since", {
        "A71": "unemployed",
        "A72": "< 1 year",
        "A73": "1 <= ... < 4 years",
        "A74": "4 <= ... < 7 years",
        "A75": ">= 7 years",
    }),
    ("installment_rate", None),
    ("personal_status_sex", {
        "A91": "male: divorced/separated",
        "A92": "female: divorced/separated/married",
        "A93": "male: single",
        "A94": "male: married/widowed",
        "A95": "female: single",
    }),
    ("other_debtors", {"A101": "none", "A102": "co-applicant", "A103": "guarantor"}),
    ("residence_since", None),
    ("property", {
        "A121": "real estate",
        "A122": "building society savings agreement / life insurance",
        "A123": "car or other",
        "A124": "unknown / no property",
    }),
    ("age", None),
    ("other_installment_plans", {"A141": "bank", "A142": "stores", "A143": "none"}),
    ("housing", {"A151": "rent", "A152": "own", "A153": "for free"}),
    ("existing_credits", None),
    ("job", {
        "A171": "unemployed / unskilled - non-resident",
        "A172": "unskilled - resident",
        "A173": "skilled employee / official",
        "A174": "management / self-employed / highly qualified employee / officer",
    }),
    ("people_liable", None),
    ("telephone", {"A191": "none", "A192": "yes (registered under the customer's name)"}),
    ("foreign_worker", {"A201": "yes", "A202": "no"}),
    ("credit_risk", {"1": "good", "2": "bad"}),
]  # fmt: skip


def convert(src, dst):
    """Read ``german.data`` at ``src`` and write the readable CSV to ``dst``; returns the number of rows."""
    rows = []
    with open(src, encoding="ascii") as f:
        for line_no, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{src}, line {line_no}: {len(fields)} fields, expected {len(COLUMNS)}")
            row = []
            for (name, codes), value in zip(COLUMNS, fields):
                if codes is None:
                    row.append(str(int(value)))
                elif value in codes:
                    row.append(codes[value])
                else:
                    raise ValueError(f"{src}, line {line_no}: unknown code {value!r} for column {name}")
            rows.append(row)
    with open(dst, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([name for name, _ in COLUMNS])
        w.writerows(rows)
    return len(rows)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    dst = argv[1] if len(argv) == 2 else Path(__file__).with_name("german_credit.csv")
    n = convert(argv[0], dst)
    print(f"wrote {n} rows to {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
