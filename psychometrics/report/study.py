"""The study file: which data, which instruments, which analyses, where to write.

A study file is YAML validated like the item banks: pydantic models with
``extra="forbid"`` and ``frozen=True``, every problem listed at once with its
place in the file and its line (:class:`~psychometrics.exceptions.StudyFileError`).
Checks that need only the file (unknown fields, an instrument that is not a
shipped bank, a form or scale the bank does not have, an analysis that names an
undeclared instrument, a data file that does not exist) happen in
:func:`load_study`; checks that need the data (a mapped column that is absent,
too few cases for an analysis) happen in :func:`psychometrics.report.run.preflight`,
still before any long computation.

Example::

    name: example
    title: Validation of the WAI-SR, PEAR and OQ-45.2
    seed: 20241126
    data:
      files: [../../examples/therapy_example.csv]   # relative to this file
      id: patient_id
      time: month
    instruments:
      wai: {bank: wai-sr, form: standard}
      oq:  {bank: oq-45.2, columns: {oq_1: OQ01}}   # item id -> data column
    analyses:
      scoring: true
      reliability: {instruments: [wai, oq]}
      efa: {instruments: [wai]}
      cfa: {instruments: [wai]}
      progress: {predictors: [wai.total], outcome: oq.total}
      clinical_significance: {scale: oq.total, norms: us}
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator, model_validator)

from ..exceptions import BankIssue, InstrumentError, StudyFileError
from ..instruments import Instrument, load_instrument
from ..instruments.loader import (line_for, loc_str, parse_loc, read_yaml_mapping,
                                  validation_message)

__all__ = [
    "Study", "DataSpec", "InstrumentUse", "Analyses", "ReliabilitySpec", "EFASpec", "CFASpec",
    "InvarianceSpec", "ProgressSpec", "ClinicalSignificanceSpec", "ItemsSpec", "IRTSpec",
    "load_study",
    "parse_study", "EXAMPLE_STUDY", "REPO_ROOT",
]

#: The shipped example study (the simulated therapy data in examples/).
EXAMPLE_STUDY = Path(__file__).resolve().parent / "example_study.yaml"
#: The repository (or installation) root: study paths may be given relative to it.
REPO_ROOT = Path(__file__).resolve().parents[2]

Key = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
#: ``instrument.scale`` reference, e.g. ``oq.total``.
ScaleRef = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*\.[A-Za-z][A-Za-z0-9_.\-]*$")]
#: Which observations single-level analyses use: each patient's first (or last)
#: observation with an answered item, each patient's first observation with every
#: item answered (``first_complete``), all observations, or one value of the time column.
Occasion = Literal["first", "last", "first_complete", "all"] | int | float


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Frozen):
    """The data: one or more CSV/Excel/SPSS/parquet files in wide format (one
    row per patient and occasion). Several files are merged on id and time."""

    files: tuple[str, ...] = Field(min_length=1)
    id: str = Field(min_length=1)
    time: str = Field(min_length=1)
    #: a level above the patient (the therapist column): the progress analysis is then the
    #: three-level one (multilevel.progress(..., cluster=...))
    cluster: str | None = Field(default=None, min_length=1)
    missing_values: tuple[str, ...] = ("", "NA", "NaN", ".")
    #: CSV reading (see :func:`psychometrics.io.read_responses`): field separator,
    #: decimal mark and text encoding; guessed (separator, decimal) or UTF-8 when absent.
    sep: str | None = Field(default=None, min_length=1, max_length=1)
    decimal: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None

    @field_validator("files", mode="before")
    @classmethod
    def _one_file(cls, v):
        return [v] if isinstance(v, str) else v


class InstrumentUse(_Frozen):
    """An instrument in the study: a bank, its form, and where its items are.

    ``columns`` maps item ids to data columns; items not listed are looked up
    via ``column_pattern`` (``{id}`` and ``{number}`` are replaced, e.g.
    ``"OQ{number:02d}"``), by default the item id itself.
    """

    bank: str = Field(min_length=1)
    form: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    column_pattern: str = "{id}"
    label: str | None = None


class ItemsSpec(_Frozen):
    """Item distributions and scale descriptives: which instruments."""

    instruments: tuple[Key, ...] | None = None  # None: all
    occasion: Occasion = "all"


class ReliabilitySpec(_Frozen):
    instruments: tuple[Key, ...] | None = None
    ci: float = Field(default=0.95, gt=0, lt=1)
    omega: bool = True
    multilevel: bool = True
    #: scales with more items are left out of the multilevel reliability (its
    #: crossed REML fit grows quickly with the number of items); the report says so.
    multilevel_max_items: int = Field(default=30, ge=2)
    occasion: Occasion = "first"


class EFASpec(_Frozen):
    instruments: tuple[Key, ...] | None = None
    n_factors: int | Literal["parallel", "bank"] = "parallel"
    method: Literal["minres", "ml", "wls", "gls", "pa"] = "minres"
    rotation: Literal["oblimin", "promax", "varimax", "geominQ", "none"] = "oblimin"
    correlation: Literal["pearson", "polychoric"] = "pearson"
    parallel_iterations: int = Field(default=20, ge=5)
    occasion: Occasion = "first"


class CFASpec(_Frozen):
    """CFA of each instrument's measurement model. ``missing: ml`` is full-information
    ML (lavaan ``missing = "ml"``; slow for long instruments), ``listwise`` drops
    incomplete rows (hence the default occasion ``first_complete``)."""

    instruments: tuple[Key, ...] | None = None
    estimator: Literal["ML"] = "ML"
    missing: Literal["listwise", "ml"] = "listwise"
    occasion: Occasion = "first_complete"


class InvarianceSpec(_Frozen):
    """Measurement invariance of one instrument across a grouping column or
    across two or more occasions (``times``)."""

    instrument: Key
    group: str | None = None
    times: tuple[int | float, ...] | None = None
    levels: tuple[Literal["configural", "metric", "scalar", "strict"], ...] = (
        "configural", "metric", "scalar")
    estimator: Literal["ML"] = "ML"
    missing: Literal["listwise", "ml"] = "listwise"
    occasion: Occasion = "first_complete"
    #: the items are ordinal: WLSMV with the Wu & Estabrook (2016) sequence (configural,
    #: thresholds, loadings, intercepts; "strict" = residual variances, theta
    #: parameterization); across ``times`` one longitudinal model of the wide data
    ordered: bool = False
    parameterization: Literal["delta", "theta"] = "delta"
    #: ordered items: merge categories not observed in every group / occasion with their
    #: neighbour (lavaan refuses such data); the report lists every merge
    merge_sparse_categories: bool = True

    @model_validator(mode="after")
    def _one_grouping(self):
        if (self.group is None) == (self.times is None):
            raise ValueError("give exactly one of 'group' (a data column) or 'times' "
                             "(occasions to compare)")
        if self.times is not None and len(self.times) < 2:
            raise ValueError("'times' needs at least two occasions")
        if self.ordered and self.missing != "listwise":
            raise ValueError("ordered items support missing: listwise only")
        return self


class ProgressSpec(_Frozen):
    """Within/between-patient progress model: does a patient's deviation from
    their own mean of each predictor predict ``outcome`` ``lag`` occasions later?

    The outcome is a scale of a declared instrument (``outcome: oq.total``) or a
    numeric data column scored elsewhere (``outcome_column: oq_total``); give
    one of them. ``max_gap`` is the largest time difference that still counts
    as the next assessment (default ``lag`` time units: a skipped month loses
    the row; the report counts those rows apart from the end of treatment).
    ``method``: ``observed`` (default; mixed models on observed patient means) or
    ``latent`` (two-level SEM with latent person means; the section then adds a table
    of observed versus latent centring and says which method was used)."""

    predictors: tuple[ScaleRef, ...] = Field(min_length=1)
    outcome: ScaleRef | None = None
    outcome_column: str | None = Field(default=None, min_length=1)
    lag: int = Field(default=1, ge=1)
    max_gap: float | None = Field(default=None, gt=0)
    control_prior_outcome: bool = True
    random_slopes: bool = False
    method: Literal["observed", "latent"] = "observed"
    max_patients_plotted: int = Field(default=30, ge=1)

    @field_validator("predictors", mode="before")
    @classmethod
    def _one_predictor(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_outcome(self):
        if (self.outcome is None) == (self.outcome_column is None):
            raise ValueError("give exactly one of 'outcome' (a scale such as oq.total) or "
                             "'outcome_column' (a numeric data column scored elsewhere)")
        return self


class ValiditySpec(_Frozen):
    """Convergent and discriminant validity among scales of the declared instruments at
    one assessment per patient: correlations of the scale scores with confidence
    intervals and Holm-adjusted p values (``psych::corr.test``), and the
    heterotrait-monotrait ratio among the instruments' factors (``semTools::htmt``).
    ``occasion``: ``first``/``last`` (each patient's first/last assessment with every
    listed scale scored) or a time value."""

    scales: tuple[ScaleRef, ...] = Field(min_length=2)
    occasion: Literal["first", "last"] | int | float = "first"
    htmt: bool = True


class ClinicalSignificanceSpec(_Frozen):
    """Reliable and clinically significant change (Jacobson & Truax, 1991)
    from each patient's first to last observation."""

    scale: ScaleRef
    norms: str | None = None


class IRTSpec(_Frozen):
    """Item response theory per instrument (``psychometrics.irt``): a unidimensional
    graded response (or GPCM) model of the instrument's items, item parameters, the test
    information curve, S-X2 item fit and, with ``dif_group`` (a data column with two
    groups), ordinal logistic regression DIF with lordif's purification."""

    instruments: tuple[Key, ...] | None = None
    model: Literal["graded", "gpcm"] = "graded"
    item_fit: bool = True
    dif_group: str | None = Field(default=None, min_length=1)
    occasion: Occasion = "first"


class Analyses(_Frozen):
    """The analyses to run; ``true`` runs one with its defaults, absent skips it."""

    scoring: bool = True
    sample: bool = True
    item_distributions: ItemsSpec | None = None
    descriptives: ItemsSpec | None = None
    reliability: ReliabilitySpec | None = None
    efa: EFASpec | None = None
    cfa: CFASpec | None = None
    invariance: InvarianceSpec | None = None
    progress: ProgressSpec | None = None
    validity: ValiditySpec | None = None
    clinical_significance: ClinicalSignificanceSpec | None = None
    irt: IRTSpec | None = None

    @field_validator("item_distributions", "descriptives", "reliability", "efa", "cfa", "irt",
                     mode="before")
    @classmethod
    def _true_is_default(cls, v):
        if v is True:
            return {}
        if v is False:
            return None
        return v


class Study(_Frozen):
    """A validated study file (load one with :func:`load_study`)."""

    name: Key
    title: str = "Psychometric validation report"
    authors: str | None = None
    description: str | None = None
    seed: int = 20241126
    #: page size of report.docx (and its PDF): "A4" (default) or "letter"
    page: Literal["A4", "letter"] = "A4"
    data: DataSpec
    instruments: dict[Key, InstrumentUse] = Field(min_length=1)
    analyses: Analyses = Field(default_factory=Analyses)
    output: str | None = None

    _source: str = PrivateAttr(default="<string>")
    _text: str = PrivateAttr(default="")
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _lines: dict = PrivateAttr(default_factory=dict)
    _banks: dict = PrivateAttr(default_factory=dict)
    _allow_outside: bool = PrivateAttr(default=False)

    # ------------------------------------------------------------------ views
    @property
    def source(self) -> str:
        return self._source

    @property
    def text(self) -> str:
        """The study file as written (kept in the manifest)."""
        return self._text

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def instrument(self, key: str) -> Instrument:
        """The instrument (with its form applied) declared under ``key``."""
        return self._banks[key]

    def bank_path(self, key: str) -> Path | None:
        from ..instruments import instrument_paths

        bank = self.instruments[key].bank
        shipped = instrument_paths()
        if bank.lower() in shipped:
            return shipped[bank.lower()]
        p = self.resolve(bank)
        return p if p.is_file() else None

    def resolve(self, path: str) -> Path:
        """A path of the study file: absolute, relative to the study file, or to the
        repository root (in that order of preference)."""
        p = Path(os.path.expanduser(path))
        if p.is_absolute():
            return p
        here = (self._base_dir / p).resolve()
        if here.exists():
            return here
        root = (REPO_ROOT / p).resolve()
        return root if root.exists() else here

    def data_paths(self) -> list[Path]:
        return [self.resolve(f) for f in self.data.files]

    def output_dir(self, root: str | os.PathLike | None = None) -> Path:
        """``validation_reports/<name>`` under ``root`` (the current directory by
        default) unless the study file says ``output:``, a folder relative to the
        study file (inside its folder unless paths outside are allowed)."""
        if self.output is not None:
            p = Path(os.path.expanduser(self.output))
            return p if p.is_absolute() else (self._base_dir / p).resolve()
        return Path(root or Path.cwd()) / "validation_reports" / self.name

    def outside(self, path: Path) -> bool:
        """Whether ``path`` lies outside the study file's folder (and that is not allowed)."""
        if self._allow_outside:
            return False
        return not Path(path).resolve().is_relative_to(self._base_dir.resolve())

    def item_columns(self, key: str) -> dict[str, str]:
        """Item id -> data column for instrument ``key`` (its form's items)."""
        use = self.instruments[key]
        inst = self.instrument(key)
        out = {}
        for item in inst.items:
            if item.id in use.columns:
                out[item.id] = use.columns[item.id]
            else:
                out[item.id] = use.column_pattern.format(id=item.id, number=item.number or 0)
        return out

    def label(self, key: str) -> str:
        use = self.instruments[key]
        if use.label:
            return use.label
        inst = self.instrument(key)
        return inst.id.upper() if len(inst.id) <= 8 else key.upper()

    def split_ref(self, ref: str) -> tuple[str, str]:
        key, scale = ref.split(".", 1)
        return key, scale

    def line(self, location: str) -> int | None:
        """Line of a dotted location in the study file (``analyses.efa``)."""
        return line_for(parse_loc(location), self._lines)

    def issue(self, location: str, message: str) -> BankIssue:
        return BankIssue(location, message, self.line(location))

    def selected(self, which: tuple[str, ...] | None) -> list[str]:
        return list(self.instruments) if which is None else list(which)


# ---------------------------------------------------------------------- loading
def load_study(path: str | os.PathLike, allow_outside_paths: bool = False) -> Study:
    """Read and validate a study file.

    Data files, bank files and ``output:`` must lie inside the study file's
    folder (or below it) unless ``allow_outside_paths=True`` (command line:
    ``--allow-outside-paths``), so that a study file received from someone
    else can neither read nor write elsewhere on the machine.

    Raises
    ------
    StudyFileError
        Every problem of the file, each with its location (``analyses.efa.rotation``)
        and line.
    """
    p = Path(path)
    if not p.is_file():
        raise StudyFileError(str(path), [BankIssue("", "the study file does not exist.")])
    from ..instruments.loader import read_yaml_text

    text = read_yaml_text(p, lambda found: StudyFileError(str(p), found))
    shipped = p.resolve() == EXAMPLE_STUDY.resolve()  # reads the shipped example data
    return parse_study(text, source=str(p), base_dir=p.resolve().parent,
                       allow_outside_paths=allow_outside_paths or shipped)


def parse_study(text: str, source: str = "<string>", base_dir: str | os.PathLike | None = None,
                allow_outside_paths: bool = False) -> Study:
    """Validate study-file YAML given as text; see :func:`load_study`."""
    data, lines, issues = read_yaml_mapping(
        text, "the file must be a YAML mapping with name, data, instruments, analyses.",
        lambda found: StudyFileError(source, found))
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            issues.append(BankIssue(loc_str(loc), _study_message(err), line_for(loc, lines)))
        raise StudyFileError(source, issues) from None
    study._source = source
    study._text = text
    study._base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
    study._lines = lines
    study._allow_outside = bool(allow_outside_paths)
    issues.extend(_semantic_issues(study))
    if issues:
        raise StudyFileError(source, issues)
    return study


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the union member's name to loc (e.g. 'int', "literal['first']")
    return isinstance(part, str) and (part in {"int", "float", "str", "bool"} or
                                      part.startswith(("literal[", "function-")))


def _study_message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (check its spelling against the study-file schema)."
    return validation_message(err)


def _semantic_issues(study: Study) -> list[BankIssue]:
    issues: list[BankIssue] = []
    add = lambda loc, msg: issues.append(study.issue(loc, msg))  # noqa: E731

    outside = ("lies outside the study file's folder {}; move it into that folder, or "
               "allow_outside_paths=True if you trust this study file.")
    for k, f in enumerate(study.data.files):
        if not study.resolve(f).is_file():
            add(f"data.files[{k}]", f"data file {f!r} does not exist (looked in "
                                    f"{study.base_dir} and {REPO_ROOT}).")
        elif study.outside(study.resolve(f)):
            add(f"data.files[{k}]", f"data file {f!r} " + outside.format(study.base_dir))
    if study.output is not None and study.outside(study.output_dir()):
        add("output", f"output folder {study.output!r} " + outside.format(study.base_dir))

    for key, use in study.instruments.items():
        shipped = _shipped()
        if use.bank.lower() not in shipped and not study.resolve(use.bank).is_file():
            add(f"instruments.{key}.bank",
                f"instrument {use.bank!r} is neither a shipped bank ({', '.join(sorted(shipped))})"
                f" nor a bank file that exists (looked for {study.resolve(use.bank)}).")
            continue
        if use.bank.lower() not in shipped and study.outside(study.resolve(use.bank)):
            add(f"instruments.{key}.bank", f"bank file {use.bank!r} " +
                outside.format(study.base_dir))
            continue
        try:
            inst = load_instrument(use.bank if use.bank.lower() in shipped else
                                   study.resolve(use.bank))
        except InstrumentError as exc:
            add(f"instruments.{key}.bank", f"bank {use.bank!r} is invalid: {exc}")
            continue
        try:
            inst = inst.with_form(use.form)
        except InstrumentError as exc:
            add(f"instruments.{key}.form", str(exc))
            continue
        study._banks[key] = inst
        for iid in use.columns:
            if iid not in inst.item_ids:
                add(f"instruments.{key}.columns.{iid}",
                    f"{iid!r} is not an item of {inst.id} (form {use.form or inst.version}); "
                    f"its items are {', '.join(inst.item_ids)}.")
        try:
            use.column_pattern.format(id="x", number=1)
        except (KeyError, IndexError, ValueError) as exc:
            add(f"instruments.{key}.column_pattern",
                f"bad pattern ({exc}); use {{id}} and {{number}}, e.g. 'OQ{{number:02d}}'.")

    an = study.analyses
    for name in ("item_distributions", "descriptives", "reliability", "efa", "cfa"):
        spec = getattr(an, name)
        if spec is None or spec.instruments is None:
            continue
        for k, key in enumerate(spec.instruments):
            if key not in study.instruments:
                add(f"analyses.{name}.instruments[{k}]",
                    f"instrument {key!r} is not declared under 'instruments' "
                    f"(declared: {', '.join(study.instruments)}).")
    if an.invariance is not None and an.invariance.instrument not in study.instruments:
        add("analyses.invariance.instrument",
            f"instrument {an.invariance.instrument!r} is not declared under 'instruments' "
            f"(declared: {', '.join(study.instruments)}).")
    refs = []
    if an.progress is not None:
        refs += [(f"analyses.progress.predictors[{k}]", r)
                 for k, r in enumerate(an.progress.predictors)]
        if an.progress.outcome is not None:
            refs.append(("analyses.progress.outcome", an.progress.outcome))
        if an.progress.outcome is not None and an.progress.outcome in an.progress.predictors:
            add("analyses.progress.outcome", "the outcome is also listed among the predictors.")
    if an.clinical_significance is not None:
        refs.append(("analyses.clinical_significance.scale", an.clinical_significance.scale))
    if an.validity is not None:
        refs += [(f"analyses.validity.scales[{k}]", r) for k, r in enumerate(an.validity.scales)]
        if len(set(an.validity.scales)) < len(an.validity.scales):
            add("analyses.validity.scales", "a scale is listed twice.")
    for loc, ref in refs:
        key, scale = study.split_ref(ref)
        if key not in study.instruments:
            add(loc, f"instrument {key!r} is not declared under 'instruments' "
                     f"(declared: {', '.join(study.instruments)}).")
        elif key in study._banks and scale not in study._banks[key].scales:
            add(loc, f"{study._banks[key].id} has no scale {scale!r} in this form; its scales "
                     f"are {', '.join(study._banks[key].scales)}.")
    if (an.progress is not None or an.clinical_significance is not None
            or an.validity is not None) and not an.scoring:
        add("analyses.scoring", "progress, validity and clinical significance need scale "
                                "scores: set scoring: true.")
    cs = an.clinical_significance
    if cs is not None:
        key, scale = study.split_ref(cs.scale)
        inst = study._banks.get(key)
        if inst is not None and scale in inst.scales:
            usable = {n: ns for n, ns in inst.norms.items() if scale in ns.scales}
            if cs.norms is not None and cs.norms not in inst.norms:
                add("analyses.clinical_significance.norms",
                    f"{inst.id} has no norms {cs.norms!r}; its norms are "
                    f"{', '.join(inst.norms) or 'none'}.")
            elif cs.norms is not None and cs.norms not in usable:
                add("analyses.clinical_significance.norms",
                    f"norms {cs.norms!r} of {inst.id} give no values for scale {scale!r}.")
            elif cs.norms is None and not usable:
                add("analyses.clinical_significance.scale",
                    f"{inst.id} has no norms for scale {scale!r}; clinical significance needs "
                    "a cut-off and a reliable-change index.")
    return issues


def _shipped() -> set[str]:
    from ..instruments import list_instruments

    return set(list_instruments())
