"""The organisers' pages for statements: the editor, the moderation queue and the CSV export,
under ``/organisers`` behind the organisers' login (``service.manage``)."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from service.access import service as access
from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.forms import ExportForm
from service.media.uploads import takes_image_upload
from service.pagination import MAX_PAGE
from service.statements import export as signature_export
from service.statements import moderation, service
from service.statements.forms import SignatureForm, StatementForm
from service.statements.listing import PAGE_SIZE
from service.statements.models import SignatureStatus, Statement, StatementStatus
from service.statements.moderation import ModerationAction, SignatureFilter
from service.statements.views import render_statement_page

bp = management_blueprint("manage_statements", __name__, find_statement_id=service.statement_id_of)


@bp.get("/statements")
@requires(Permission.STATEMENT_LIST)
def list_statements() -> str:
    visible = access.visible_statement_ids(current_user)
    listed = [
        statement
        for statement in service.list_statements()
        if visible is None or statement.id in visible
    ]
    return render_template(
        "statements/manage/statements.html",
        statements=listed,
        counts={statement.id: moderation.signature_counts(statement.id) for statement in listed},
    )


@bp.route("/statements/new", methods=["GET", "POST"])
@takes_image_upload
@requires(Permission.STATEMENT_CREATE)
def new_statement() -> str | BaseResponse | tuple[str, int]:
    return _save_statement_form(StatementForm(), None)


@bp.route("/statements/<slug>/edit", methods=["GET", "POST"])
@takes_image_upload
@requires(Permission.STATEMENT_EDIT)
def edit_statement(slug: str) -> str | BaseResponse | tuple[str, int]:
    statement = _statement_or_404(slug)
    form = StatementForm(obj=statement)
    form.current_image = statement.image
    if request.method == "GET":
        form.published.data = statement.is_published
        form.fill_image(statement.image)
    return _save_statement_form(form, statement)


def _save_statement_form(
    form: StatementForm, statement: Statement | None
) -> str | BaseResponse | tuple[str, int]:
    if form.validate_on_submit():
        try:
            saved = service.save_statement(
                statement, form.statement_fields(), utc_now(), created_by=current_user.id
            )
        except ValueError:
            form.slug.errors.append(_("Another statement has this address already."))
        else:
            service.set_statement_image(saved, form.image_choice())
            audit.record(
                "statements.edit" if statement else "statements.create",
                current_user,
                statement=saved,
            )
            flash(_("Saved."), "ok")
            return redirect(url_for(".edit_statement", slug=saved.slug))
    status = 400 if form.errors else 200
    return render_template(
        "statements/manage/statement_form.html", form=form, statement=statement
    ), status


@bp.get("/statements/<slug>/preview")
@requires(Permission.STATEMENT_PREVIEW)
def preview_statement(slug: str) -> str:
    """The public page as it will look, drafts included (for organisers' eyes only)."""
    return render_statement_page(_statement_or_404(slug), SignatureForm(), preview=True)


@bp.get("/statements/<slug>/signatures")
@requires(Permission.STATEMENT_MODERATE)
def signatures(slug: str) -> str:
    """Every signature, with the moderation buttons; awaiting approval shown first when any."""
    statement = _statement_or_404(slug)
    counts = moderation.signature_counts(statement.id)
    search = request.args.get("q", "").strip()[:200]
    default_filter = (
        SignatureFilter.AWAITING_APPROVAL
        if counts[SignatureStatus.AWAITING_APPROVAL.value]
        else SignatureFilter.ALL
    )
    try:
        shown = SignatureFilter(request.args.get("status", default_filter))
    except ValueError:
        shown = SignatureFilter.ALL
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    rows, total = moderation.find_signatures(statement.id, search, shown, page)
    audit.record(
        "signatures.list", current_user, statement=statement, detail=f"{len(rows)} row(s) shown"
    )
    return render_template(
        "statements/manage/signatures.html",
        statement=statement,
        counts=counts,
        by_event=service.counts_by_source_event(statement.id),
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        search=search,
        shown=shown,
        filters=SIGNATURE_FILTER_LABELS,
        export_form=ExportForm(),
        columns=signature_export.COLUMNS,
    )


@bp.post("/statements/<slug>/export.csv")
@requires(Permission.STATEMENT_EXPORT)
def export_signatures(slug: str) -> BaseResponse:
    statement = _statement_or_404(slug)
    form = ExportForm()
    form.columns.choices = [SelectChoice(name, name) for name in signature_export.COLUMN_NAMES]
    if not form.validate():
        flash(_("Tick at least one column to export."), "error")
        return redirect(url_for(".signatures", slug=slug))
    now = utc_now()
    audit.record(
        "signatures.export",
        current_user,
        statement=statement,
        detail="web; columns: " + ", ".join(form.columns.data),
    )
    chunks = signature_export.export_signatures(
        statement,
        signature_export.choose_columns(form.columns.data),
        organiser_id=current_user.id,
        via="web",
        now=now,
        bom=form.bom.data,
    )
    filename = signature_export.export_filename(statement, now)
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/statements/<slug>/signatures/<int:signature_id>/<action>")
@requires(Permission.STATEMENT_MODERATE)
def moderate_signature(slug: str, signature_id: int, action: str) -> BaseResponse:
    statement = _statement_or_404(slug)
    try:
        chosen = ModerationAction(action)
    except ValueError:
        abort(404)
    if not moderation.moderate(statement.id, signature_id, chosen, now=utc_now()):
        abort(404)
    audit.record(
        "signatures.moderate",
        current_user,
        statement=statement,
        detail=f"{chosen.value} signature {signature_id}",
    )
    flash(str(MODERATION_DONE[chosen]), "ok")
    return redirect(
        url_for(
            ".signatures",
            slug=slug,
            status=request.form.get("status") or None,
            q=request.form.get("q") or None,
            page=request.form.get("page") or None,
        )
    )


def _statement_or_404(slug: str) -> Statement:
    statement = service.get_statement(slug)
    if statement is None:
        abort(404)
    return statement


SIGNATURE_FILTER_LABELS = {
    SignatureFilter.ALL: _l("All"),
    SignatureFilter.AWAITING_APPROVAL: _l("Awaiting approval"),
    SignatureFilter.APPROVED: _l("Approved"),
    SignatureFilter.FEATURED: _l("Featured"),
    SignatureFilter.HIDDEN: _l("Hidden"),
    SignatureFilter.UNCONFIRMED: _l("Not confirmed yet"),
}
SIGNATURE_STATUS_LABELS = {
    SignatureStatus.UNCONFIRMED: _l("Not confirmed yet"),
    SignatureStatus.AWAITING_APPROVAL: _l("Awaiting approval"),
    SignatureStatus.APPROVED: _l("Approved"),
    SignatureStatus.HIDDEN: _l("Hidden"),
}
STATEMENT_STATUS_LABELS = {
    StatementStatus.DRAFT: _l("Draft"),
    StatementStatus.PUBLISHED: _l("Published"),
}
MODERATION_DONE = {
    ModerationAction.APPROVE: _l(
        "Approved: the signature counts, and is listed if its signer agreed."
    ),
    ModerationAction.HIDE: _l("Hidden: the signature is neither listed nor counted."),
    ModerationAction.FEATURE: _l("Featured: the name is shown at the top of the list."),
    ModerationAction.UNFEATURE: _l("No longer featured."),
}


@bp.app_template_global()
def signature_status_label(status: SignatureStatus) -> str:
    return str(SIGNATURE_STATUS_LABELS[status])


@bp.app_template_global()
def statement_status_label(status: StatementStatus) -> str:
    return str(STATEMENT_STATUS_LABELS[status])
