"""``OUT/governors/``: the PDFs a trust passes to its governors, and nothing that names a pupil.

Every complete school's ``summary.pdf`` (as ``<folder>-summary.pdf``) and the
trust overview's PDF (``trust-overview.pdf``). None of them names a pupil:
the summary holds only the summary box, its method and glossary (group
figures, small groups withheld), and the trust overview holds no pupil data.
The PDFs that name pupils (each school's ``03_intervention_targeting.pdf``)
stay in the school's own folder. Rebuilt at the end of every run from what is
on disk, so it never holds the summary of a school that is no longer there.
"""
from __future__ import annotations

from .outdir import OutputFolder

#: The folder, inside the output folder.
FOLDER = "governors"
#: The trust overview's PDF in it.
TRUST_PDF = "trust-overview.pdf"


def school_is_ok(status: str) -> bool:
    """A school whose pages are all there (its PDFs may have failed to print)."""
    from .school import PDF_FAILED

    return status in ("ok", PDF_FAILED)


def governors_folder(folder: OutputFolder, schools: dict, trust: dict) -> list[str]:
    """Copy the governors' PDFs into ``governors/``; remove any there that this run does not back.

    Parameters
    ----------
    folder : OutputFolder
        The run's output folder (its record of files is kept up to date).
    schools : dict
        The manifest's ``schools`` (school id -> outcome as a dict).
    trust : dict
        The manifest's ``trust`` entry (its ``outputs``).

    Returns
    -------
    list of str
        The files of ``governors/`` (relative paths), in order.
    """
    wanted: dict[str, bytes] = {}
    for sid in sorted(schools, key=lambda s: schools[s]["folder"]):
        s = schools[sid]
        summary = folder.path / s["folder"] / "summary.pdf"
        if school_is_ok(s["status"]) and summary.is_file():
            wanted[f"{FOLDER}/{s['folder']}-summary.pdf"] = summary.read_bytes()
    overview = [o for o in trust.get("outputs") or [] if o.endswith(".pdf")]
    if overview and (folder.path / overview[0]).is_file():
        wanted[f"{FOLDER}/{TRUST_PDF}"] = (folder.path / overview[0]).read_bytes()
    for rel in [r for r in folder.files if r.startswith(f"{FOLDER}/") and r not in wanted]:
        folder.remove_file(rel)
    return [folder.write_bytes(rel, data) for rel, data in wanted.items()]
