"""The site's look, for admins: ``/organisers/site``, the home page's introduction (English
and Spanish Markdown) and the organisation's logo in every page's header."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.media import service
from service.media.forms import SiteLookForm
from service.media.uploads import takes_image_upload

bp = management_blueprint("manage_site", __name__)


@bp.route("/site", methods=["GET", "POST"])
@takes_image_upload
@requires(Permission.SITE_LOOK)
def edit_site() -> str | BaseResponse | tuple[str, int]:
    settings = service.site_settings()
    form = SiteLookForm()
    form.current_image = settings.logo if settings else None
    if not form.is_submitted() and settings is not None:
        form.introduction.data = settings.introduction
        form.introduction_es.data = settings.introduction_es or ""
        form.fill_image(settings.logo)
    if form.validate_on_submit():
        try:
            service.save_site_settings(
                form.introduction.data or "", form.introduction_es.data, form.image_choice()
            )
        except service.ImageRefused as refused:
            form.image_alt.errors.append(refused.reason)
        else:
            audit.record("site.look", current_user)
            flash(_("Saved: the home page and the header show the change now."), "ok")
            return redirect(url_for(".edit_site"))
    return render_template("media/manage/site.html", form=form, settings=settings), (
        400 if form.errors else 200
    )
