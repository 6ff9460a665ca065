"""Statements and their public signatory list; signing, confirming and withdrawing."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from service.db import utc_now
from service.extensions import limiter
from service.followups import service as followups
from service.i18n import current_language
from service.page_cache import cached_page
from service.security import no_store
from service.statements import listing, service
from service.statements.forms import SignatureForm
from service.statements.listing import MAX_PAGE, PAGE_SIZE, SignatoryOrder
from service.statements.models import Statement
from service.statements.service import CONFIRM, WITHDRAW, LinkedSignature
from service.text import render_markdown
from service.urls import absolute_url

bp = Blueprint("statements", __name__)
api = Blueprint("statements_api", __name__, url_prefix="/api")

MAX_SEARCH_LENGTH = 100
API_PAGE_SIZE = 500


def _signature_limit() -> str:
    return current_app.config["SIGNATURE_RATE_LIMIT"]


@bp.get("/statements")
def list_statements() -> str:
    return cached_page(_render_statement_list)


def _render_statement_list() -> str:
    return render_template("statements/list.html", statements=service.list_published())


@bp.get("/statements/<slug>")
def show_statement(slug: str) -> str | Response:
    if "via" in request.args:  # a follow-up's sign link: never cached, the form is theirs
        return _show_to_invited(slug, request.args["via"])
    return cached_page(
        lambda: render_statement_page(_public_statement_or_404(slug), SignatureForm()),
        scope=service.page_scope(slug),
    )


@no_store
def _show_to_invited(slug: str, token: str) -> str:
    """The page with the sign form filled in with the registrant's name and email; a forged
    or expired link opens the usual empty form."""
    statement = _public_statement_or_404(slug)
    invited = followups.read_sign_token(token, statement.id)
    if invited is None:
        return render_statement_page(statement, SignatureForm())
    form = SignatureForm(data={"name": invited.name, "email": invited.email, "via": token})
    return render_statement_page(statement, form)


@bp.post("/statements/<slug>")
@limiter.limit(_signature_limit)
@no_store
def sign(slug: str) -> Response | tuple[str, int]:
    statement = _public_statement_or_404(slug)
    form = SignatureForm()
    if not form.validate_on_submit():
        return render_statement_page(statement, form), 400
    if not form.website.data:  # the honeypot: a bot is answered as if all went well
        signer = service.Signer(
            name=form.name.data,
            email=form.email.data,
            affiliation=form.affiliation.data or "",
            town=form.town.data or "",
            country=form.country.data or "",
            show_name=form.show_name.data,
            keep_informed=form.keep_informed.data,
        )
        invited = followups.read_sign_token(form.via.data, statement.id) if form.via.data else None
        try:
            service.sign(
                slug,
                signer,
                current_language(),
                utc_now(),
                source_event_id=invited.event_id if invited else None,
            )
        except service.StatementClosed:
            return redirect(url_for(".show_statement", slug=slug))
    return redirect(url_for(".check_inbox", slug=slug))


def render_statement_page(
    statement: Statement, form: SignatureForm, *, preview: bool = False
) -> str:
    """The statement, its count, the sign form and a page of the list (from the query)."""
    language = current_language()
    search = request.args.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    try:
        order = SignatoryOrder(request.args.get("order", SignatoryOrder.NEWEST))
    except ValueError:
        order = SignatoryOrder.NEWEST
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    after = request.args.get("after") or None
    url = absolute_url("statements.show_statement", slug=statement.slug)
    return render_template(
        "statements/show.html",
        statement=statement,
        title=statement.localised("title", language),
        summary=statement.localised("summary", language),
        body=render_markdown(statement.localised("body", language)),
        signatories=listing.public_signatories(statement, page, order, search, after),
        by_event=service.counts_by_source_event(
            statement.id, public_at=None if preview else utc_now()
        ),
        search=search,
        order=order,
        page_size=PAGE_SIZE,
        form=form,
        url=url,
        preview=preview,
    )


@bp.get("/statements/<slug>/signed")
@no_store
def check_inbox(slug: str) -> str:
    """The same page for a first signature, a repeat and a bot: the email says which."""
    statement = _public_statement_or_404(slug)
    return render_template("statements/check_inbox.html", statement=statement)


@bp.get("/signature/confirm/<token>")
@no_store
def confirm(token: str) -> str:
    """A button, not the link itself, confirms: mail scanners follow links, never buttons."""
    return _confirm_page(_linked_or_404(CONFIRM, token), token)


@bp.post("/signature/confirm/<token>")
@no_store
def confirm_signature(token: str) -> str:
    linked = _linked_or_404(CONFIRM, token)
    if linked.expired and not linked.signature.is_confirmed:
        return _confirm_page(linked, token)
    signature = service.confirm_signature(linked.signature.id, utc_now())
    if signature is None:
        abort(404)
    return render_template(
        "statements/confirmed.html",
        signature=signature,
        statement=signature.statement,
        withdraw_url=service.withdraw_url(signature),
    )


def _confirm_page(linked: LinkedSignature, token: str) -> str:
    signature = linked.signature
    return render_template(
        "statements/confirm.html",
        signature=signature,
        statement=signature.statement,
        expired=linked.expired and not signature.is_confirmed,
        token=token,
        withdraw_url=service.withdraw_url(signature),
    )


@bp.post("/signature/confirm/<token>/renew")
@limiter.limit(_signature_limit)  # each press mails a new link, with no few-minutes wait
@no_store
def renew_link(token: str) -> str:
    linked = _linked_or_404(CONFIRM, token)
    service.renew_confirmation(linked.signature.id, utc_now())
    return render_template("statements/link_sent.html", statement=linked.signature.statement)


@bp.get("/signature/withdraw/<token>")
@no_store
def withdraw(token: str) -> str:
    linked = _linked_or_404(WITHDRAW, token, usable=True)
    signature = linked.signature
    return render_template(
        "statements/withdraw.html", signature=signature, statement=signature.statement
    )


@bp.post("/signature/withdraw/<token>")
@no_store
def withdraw_signature(token: str) -> str:
    linked = _linked_or_404(WITHDRAW, token, usable=True)
    statement = linked.signature.statement
    service.withdraw(linked.signature.id)
    return render_template("statements/withdrawn.html", statement=statement)


@api.after_request
def allow_cross_origin_reads(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET"
    return response


@api.get("/statements/<slug>")
def statement_data(slug: str) -> Response:
    """The count and one page of the public names (``?page=``, 500 a page)."""
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return jsonify(
        listing.public_statement_data(_public_statement_or_404(slug), page, API_PAGE_SIZE)
    )


def _public_statement_or_404(slug: str) -> Statement:
    statement = service.get_public_statement(slug)
    if statement is None:
        abort(404)
    return statement


def _linked_or_404(purpose: str, token: str, *, usable: bool = False) -> LinkedSignature:
    """The signature behind a link; 404 for a forged, revoked or withdrawn one, and for an
    expired one when it has to be ``usable``."""
    linked = service.signature_from_link(purpose, token)
    if linked is None or (usable and linked.expired):
        abort(404)
    return linked
