"""All loaded flows by id and version: new conversations get the latest, old ones keep theirs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.compile import CompiledFlow
from bot.errors import FlowError, FlowNotFound
from bot.flows.lint import lint_flow
from bot.flows.loader import default_catalogue, parse_flow, read_text
from bot.flows.validate import Catalogue, validate_flow

log = logging.getLogger(__name__)
DEFAULT_FLOW_ID = "cant-send-email"


@dataclass
class LoadReport:
    """What a (re)load did: flows loaded or updated, and files refused with their problems."""

    loaded: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)


class FlowRegistry:
    """Keeps every version that a conversation may still be on; the latest per id serves new ones."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue
        self._versions: dict[tuple[str, str], CompiledFlow] = {}
        self._latest: dict[str, CompiledFlow] = {}
        self.refused: dict[str, list[str]] = {}
        self.directory: Path | None = None

    @classmethod
    def load_dir(cls, directory: Path | str, catalogue: Catalogue | None = None) -> FlowRegistry:
        registry = cls(catalogue)
        registry.directory = Path(directory)
        registry.reload()
        return registry

    @property
    def default_flow_id(self) -> str:
        if DEFAULT_FLOW_ID in self._latest:
            return DEFAULT_FLOW_ID
        if not self._latest:
            raise FlowNotFound(
                f"no flow is loaded from {self.directory}; set SUPPORTBOT_FLOWS to the folder of your flows"
            )
        return sorted(self._latest)[0]

    def ids(self) -> list[str]:
        return sorted(self._latest)

    def get(self, flow_id: str | None = None, version: str | None = None) -> CompiledFlow:
        flow_id = flow_id or self.default_flow_id
        if version is None:
            flow = self._latest.get(flow_id)
        else:
            flow = self._versions.get((flow_id, str(version)))
        if flow is None:
            what = f"flow {flow_id!r}" + (f" version {version}" if version else "")
            known = ", ".join(self.ids()) or "none"
            raise FlowNotFound(f"no {what} is loaded (loaded: {known})")
        return flow

    def add(self, flow: CompiledFlow) -> None:
        self._versions[(flow.id, flow.version)] = flow
        self._latest[flow.id] = flow

    def files(self) -> list[Path]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.yaml") if p.is_file())

    def versions(self, flow_id: str) -> list[str]:
        """Every loaded version of `flow_id`, oldest first."""
        return [v for (fid, v) in self._versions if fid == flow_id]

    def prune(self, in_use: Iterable[tuple[str, str]]) -> list[str]:
        """Forget versions no conversation is on any more; the latest of each flow always stays.

        Old versions are kept in memory until this is called with the (flow_id, version) pairs of
        every conversation still in progress (the service knows them; the registry does not).
        """
        keep = {(fid, str(v)) for fid, v in in_use}
        latest = {(f.id, f.version) for f in self._latest.values()}
        dropped = [key for key in self._versions if key not in keep and key not in latest]
        for key in dropped:
            del self._versions[key]
        return [f"{fid}@{v}" for fid, v in dropped]

    def reload(self) -> LoadReport:
        """Load every flow file; a broken file is refused and the version before it keeps serving.

        The file is the truth for new conversations: its version becomes the latest. A file whose
        content changed while its `version:` did not is refused: conversations in progress must be
        able to finish on the version they started with, so a change needs a new version number.
        """
        report = LoadReport()
        parsed = []
        for path in self.files():
            try:
                text = read_text(path)
                spec, doc = parse_flow(text, str(path))
            except FlowError as exc:
                report.refused[str(path)] = [f"{loc}: {msg}" for loc, msg in exc.problems]
                continue
            parsed.append((spec, doc, text))
        flow_ids = {spec.id for spec, _, _ in parsed} | set(self._latest)
        catalogue = self.catalogue or default_catalogue(flow_ids)
        if catalogue.flow_ids is None:
            catalogue = Catalogue(catalogue.probe_known, catalogue.probe_arguments, flow_ids)
        files_by_id: dict[str, str] = {}
        for spec, doc, text in parsed:
            problems = validate_flow(spec, doc, catalogue)
            version = str(spec.version)
            current = self._versions.get((spec.id, version))
            if not problems and spec.id in files_by_id:
                problems = [
                    (
                        doc.where(("id",)),
                        f"flow id `{spec.id}` is also used by {files_by_id[spec.id]}; "
                        "ids must be unique: rename one",
                    )
                ]
            if not problems and current is not None and current.spec != spec:
                problems = [
                    (
                        doc.where(("version",)),
                        f"this flow changed but its version is still {version}; conversations in "
                        f"progress keep running version {version} as first loaded, so bump `version:` "
                        f"(e.g. to {_next_version(version)}) to publish the change",
                    )
                ]
            if problems:
                report.refused[doc.file] = [f"{loc}: {msg}" for loc, msg in problems]
                continue
            files_by_id[spec.id] = doc.file
            if current is None:
                flow = CompiledFlow(spec, doc.file)
                self._versions[(flow.id, flow.version)] = flow
                report.loaded.append(f"{spec.id}@{spec.version}")
                for warning in lint_flow(spec, doc, text):
                    log.warning("%s", warning)
            self._latest[spec.id] = self._versions[(spec.id, version)]
        for file, lines in report.refused.items():
            log.error("refused flow file %s:\n  %s", file, "\n  ".join(lines))
        if report.loaded:
            log.debug("loaded flows: %s", ", ".join(report.loaded))
        self.refused = report.refused
        return report


def _next_version(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else f"{version}.1"
