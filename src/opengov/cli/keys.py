"""`opengov key`: make pseudonym keys and signing keys, and show a public key."""

from __future__ import annotations

from pathlib import Path

import click

from opengov.cli.app import dump
from opengov.errors import KeyFileExists


@click.group("key")
def key_group() -> None:
    """Make keys: a pseudonym key (secret, stays with the municipality) or an Ed25519 signing
    key pair (the private half signs releases or approvals; the public half is published)."""


@key_group.command("new")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The key file.")
@click.option(
    "--signing",
    is_flag=True,
    help="An Ed25519 signing key pair: FILE (private, mode 600) and FILE.pub (published).",
)
@click.option("--name", help="With --signing: who holds the key (the publisher, or the approver).")
@click.option(
    "--valid-days",
    type=click.IntRange(1, 3660),
    default=730,
    show_default=True,
    help="With --signing: how long the key may sign.",
)
@click.option(
    "--replaces",
    type=click.Path(path_type=Path),
    help="With --signing: the private key file this key takes over from (key rotation); the old "
    "key signs the new key's statement.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was made as JSON.")
def key_new(
    out: Path,
    signing: bool,
    name: str | None,
    valid_days: int,
    replaces: Path | None,
    as_json: bool,
) -> None:
    """Make a new key in FILE; an existing file is never overwritten.

    Without --signing: a random 256-bit pseudonym key (mode 600) for pseudonymize rules; keep
    it secret, never publish it.
    """
    if not signing:
        if name or replaces:
            raise click.UsageError("--name and --replaces apply to signing keys (--signing)")
        from opengov.redact.keys import write_new_key

        if out.exists() or out.is_symlink():
            raise KeyFileExists.at(out)  # as for a signing key
        key = write_new_key(out)  # KeyFileExists also if the file was made meanwhile
        data = {"kind": "pseudonym", "file": str(out), "fingerprint": key.fingerprint}
        if as_json:
            click.echo(dump(data))
        else:
            click.echo(f"pseudonym key written to {out} (mode 600), fingerprint {key.fingerprint}")
            click.echo("keep it secret: anyone holding it can link pseudonyms to the originals")
        return
    from opengov.signing import new_signing_key

    if not name:
        raise click.UsageError("--signing needs --name: who holds the key")
    info = new_signing_key(out, name=name, valid_days=valid_days, replaces=replaces)
    data = {"kind": "signing", "file": str(out), "public_file": f"{out}.pub", **info.to_dict()}
    data.pop("statement")
    if as_json:
        click.echo(dump(data))
        return
    click.echo(f"signing key written to {out} (private, mode 600) and {out}.pub (public)")
    _show(info.key_id, info.key.text, info.name, info.valid_from, info.valid_until)
    if info.replaces:
        click.echo(f"  replaces key {info.replaces.key_id} (which signed this key's statement)")


def _show(key_id: str, text: str, name: str, valid_from: str, valid_until: str) -> None:
    click.echo(f"  key id:   {key_id}")
    click.echo(f"  holder:   {name}")
    click.echo(f"  valid:    {valid_from} to {valid_until}")
    click.echo("  for rules.yaml approvals:")
    click.echo(f"    - name: {name}")
    click.echo(f'      key: "{text}"')


@key_group.command("show")
@click.argument("public_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the key as JSON.")
def key_show(public_file: Path, as_json: bool) -> None:
    """Show a public key (FILE.pub): its id, holder, validity, and the rules.yaml entry."""
    from opengov.signing import KeyInfo, read_public_key

    key = read_public_key(public_file)
    if not isinstance(key, KeyInfo):
        data = {"key_id": key.key_id, "public_key": key.text}
        click.echo(dump(data) if as_json else f"key id {key.key_id}\n{key.text}")
        return
    if as_json:
        data = key.to_dict()
        data.pop("statement")
        click.echo(dump(data))
        return
    _show(key.key_id, key.key.text, key.name, key.valid_from, key.valid_until)
    if key.replaces:
        click.echo(f"  replaces key {key.replaces.key_id}")
