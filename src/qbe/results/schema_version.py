"""The version of the JSON report's schema (:mod:`.schema`), on its own.

Every report records it, so assembling a report needs it; the schema's
pydantic models are needed only to print or check the schema (``qbe
schema``), and importing pydantic took a tenth of a second of every run.
"""

SCHEMA_VERSION = "1.2"
#: 1.0 first release; 1.1 adds standard.year, exemptions, "reason" on exempt or tolerated results,
#: "grade" on graded items and county "grades" for graded verdicts; 1.2 adds "remedy" on unmet
#: indicators and on CVs over their limit
