"""Read seed files and validate them; every error names the file, the path inside it and the problem."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import gettext as _
from marshmallow import ValidationError

from app.seeds.schemas import FILE_SCHEMAS, KIND_ORDER


@dataclass
class SeedError:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = self.path or _("(the whole file)")
        return f"{self.file}: {where}: {self.message}"


@dataclass
class SeedFile:
    path: str
    kind: str
    data: dict[str, Any]


@dataclass
class LoadResult:
    files: list[SeedFile] = field(default_factory=list)
    errors: list[SeedError] = field(default_factory=list)


def flatten_errors(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested dict of errors -> [("divisions[3].code", "Missing data ...")]."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, path))
    elif isinstance(messages, list) and all(not isinstance(m, (dict, list)) for m in messages):
        out.extend((prefix, str(m)) for m in messages)
    elif isinstance(messages, list):
        for item in messages:
            out.extend(flatten_errors(item, prefix))
    else:
        out.append((prefix, str(messages)))
    return out


def expand_paths(paths: list[str]) -> list[str]:
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, names in os.walk(path):
                files.extend(
                    os.path.join(root, n) for n in sorted(names) if n.endswith((".yaml", ".yml"))
                )
        else:
            files.append(path)
    return files


def load(paths: list[str]) -> LoadResult:
    result = LoadResult()
    for path in expand_paths(paths):
        try:
            with open(path, encoding="utf-8") as fh:
                raw = yaml.safe_load(fh)
        except FileNotFoundError:
            result.errors.append(SeedError(path, "", _("File not found.")))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = _("line %(line)d, column %(column)d", line=mark.line + 1, column=mark.column + 1) if mark else ""
            result.errors.append(
                SeedError(path, where, _("Not valid YAML: %(problem)s", problem=getattr(exc, "problem", exc)))
            )
            continue
        if not isinstance(raw, dict):
            result.errors.append(SeedError(path, "", _("Must be a mapping with a 'kind' key.")))
            continue
        kind = raw.get("kind")
        schema_cls = FILE_SCHEMAS.get(kind)
        if schema_cls is None:
            result.errors.append(
                SeedError(path, "kind", _("Must be one of %(kinds)s (got %(kind)r).",
                                          kinds=", ".join(KIND_ORDER), kind=kind))
            )
            continue
        try:
            data = schema_cls().load(raw)
        except ValidationError as exc:
            for where, message in flatten_errors(exc.messages):
                result.errors.append(SeedError(path, where, message))
            continue
        result.files.append(SeedFile(path, kind, data))
    result.files.sort(key=lambda f: KIND_ORDER.index(f.kind))
    return result


def passwords_given(seed: SeedFile) -> list[str]:
    """Users whose password is written in the file: fine for a demo, never for a real organisation."""
    if seed.kind not in ("tenant", "operators"):
        return []
    return [user["username"] for user in seed.data.get("users") or [] if user.get("password")]
