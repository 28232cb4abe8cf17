"""The Power BI project generated beside the Parquet export: the semantic model, its measures and their SQL twins
from one specification (model.yml), and a report (docs/powerbi.md)."""
