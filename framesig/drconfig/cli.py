"""Command line: ``framesig dr validate|runbook|init`` (also ``python -m framesig.drconfig``).

Exit codes (for CI):

* ``0``: clean; warnings and infos allowed (unless ``--strict``), or the command succeeded.
* ``1``: the plan has findings of severity error (or warnings with ``--strict``).
* ``2``: usage or load error: bad arguments, file missing, invalid TOML/YAML/JSON, unknown
  field, unknown stamp, refusing to overwrite.

Examples
--------
>>> main(["validate", "no/such/plan.toml"])
2
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import Any

from framesig.drconfig.load import PlanError, load_plan, seed_plan_text
from framesig.drconfig.render import runbook_dict, to_json, to_markdown, to_resilience_hub
from framesig.drconfig.validate import Report, Severity, validate

__all__ = ["EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "add_dr_parser", "build_parser", "main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _today(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (use YYYY-MM-DD)") from None


def _err(msg: str) -> None:
    print(f"framesig dr: error: {msg}", file=sys.stderr)


def _load(path: str) -> Any:
    try:
        return load_plan(path)
    except PlanError as exc:
        _err(str(exc))
        return None


def _summary(report: Report) -> str:
    def n(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    return ", ".join(
        (
            n(len(report.errors), "error"),
            n(len(report.warnings), "warning"),
            n(len(report.infos), "info"),
        )
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    plan = _load(args.plan)
    if plan is None:
        return EXIT_USAGE
    report = validate(plan, today=args.today)
    code = report.exit_code(strict=args.strict)
    if args.format == "json":
        doc = {
            "version": 1,
            "plan": args.plan,
            "ok": code == EXIT_OK,
            "findings": [f.to_dict() for f in report],
        }
        sys.stdout.write(to_json(doc))
        return code
    for f in report:
        if f.severity is Severity.INFO and args.quiet:
            continue
        print(f"{args.plan}: {f}")
    verdict = "ok" if code == EXIT_OK else "FAILED"
    print(f"{args.plan}: {verdict}: {_summary(report)}")
    return code


def _cmd_runbook(args: argparse.Namespace) -> int:
    plan = _load(args.plan)
    if plan is None:
        return EXIT_USAGE
    if args.stamp is not None and plan.stamp(args.stamp) is None:
        known = ", ".join(s.id for s in plan.stamps) or "none"
        _err(f"{args.plan}: no stamp {args.stamp!r} (stamps: {known})")
        return EXIT_USAGE
    report = validate(plan, today=args.today)
    text: str
    if args.format == "md":
        text = to_markdown(plan, args.stamp, report)
    elif args.format == "json":
        text = to_json(runbook_dict(plan, args.stamp, report))
    else:
        stamps = [plan.stamp(args.stamp)] if args.stamp else list(plan.stamps)
        policies = [to_resilience_hub(s, args.rh_version) for s in stamps if s is not None]
        text = to_json(policies[0] if args.stamp else policies)
    if args.output and args.output != "-":
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _err(f"cannot write {args.output}: {exc}")
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
    if report.errors:
        print(
            f"framesig dr: note: {args.plan} has {len(report.errors)} error finding(s); "
            "run `framesig dr validate` for details",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    text = seed_plan_text()
    if args.path == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.path)
    if path.exists() and not args.force:
        _err(f"{path} exists; use --force to overwrite")
        return EXIT_USAGE
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _err(f"cannot write {path}: {exc}")
        return EXIT_USAGE
    print(f"wrote the seed DR plan to {path}; edit it, then run `framesig dr validate {path}`")
    return EXIT_OK


def _add_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dr_command", metavar="{validate,runbook,init}")

    v = sub.add_parser("validate", help="check a plan; exit 1 on error findings")
    v.add_argument("plan", help="plan file (.toml, .yaml/.yml, .json)")
    v.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    v.add_argument("--today", type=_today, default=None, help="reference date YYYY-MM-DD")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("-q", "--quiet", action="store_true", help="hide info findings (text)")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("runbook", help="render a runbook (Markdown, JSON, Resilience Hub)")
    r.add_argument("plan", help="plan file (.toml, .yaml/.yml, .json)")
    r.add_argument("--stamp", default=None, help="only this stamp id")
    r.add_argument("--format", choices=("md", "json", "rh"), default="md")
    r.add_argument(
        "--rh-version", type=int, choices=(1, 2), default=1, help="Resilience Hub API version"
    )
    r.add_argument("--today", type=_today, default=None, help="reference date YYYY-MM-DD")
    r.add_argument("-o", "--output", default=None, help="write to a file instead of stdout")
    r.set_defaults(func=_cmd_runbook)

    i = sub.add_parser("init", help="write the seed plan (four Central US stamps) to start from")
    i.add_argument("path", nargs="?", default="dr-plan.toml", help="target file, '-' = stdout")
    i.add_argument("--force", action="store_true", help="overwrite an existing file")
    i.set_defaults(func=_cmd_init)

    def _no_command(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        _err("choose a command: validate, runbook or init")
        return EXIT_USAGE

    parser.set_defaults(func=_no_command)


def add_dr_parser(subparsers: Any) -> None:
    """Add the ``dr`` command (``validate``, ``runbook``, ``init``) to an argparse subparsers.

    Each leaf sets ``func``, a callable taking the parsed namespace and returning the exit
    code.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> top = argparse.ArgumentParser(prog="framesig")
    >>> add_dr_parser(top.add_subparsers(dest="command"))
    >>> args = top.parse_args(["dr", "init", "-"])
    >>> args.func.__name__
    '_cmd_init'
    """
    p = subparsers.add_parser(
        "dr",
        help="disaster-recovery plans: validate, render runbooks, start from the seed plan",
        description="Disaster-recovery plans as data (framesig.drconfig).",
    )
    _add_commands(p)


def build_parser(prog: str = "framesig dr") -> argparse.ArgumentParser:
    """The standalone parser used by :func:`main`."""
    p = argparse.ArgumentParser(
        prog=prog, description="Disaster-recovery plans as data (framesig.drconfig)."
    )
    _add_commands(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the ``dr`` commands; returns the exit code instead of exiting.

    Examples
    --------
    >>> main(["runbook", "--format", "nope", "x.toml"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    result: int = args.func(args)
    return result
