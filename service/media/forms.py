"""The image part of a form (file, alt text, remove), for any area's form, and the site's
look (the home page's introduction and the logo)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from service.forms import Form
from service.media.models import Image
from service.media.service import (
    ALT_MAX_LENGTH,
    ImageChoice,
    ImageRefused,
    PreparedImage,
    kept_image,
    prepare_image,
)

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp"


class ImageFields:
    """Mixed into a ``service.forms.Form``: the view sets ``current_image`` (the image the
    thing has now, if any) before validating, and reads ``image_choice()`` after. A refused
    file is an error beside the field; the other fields keep what was typed."""

    image = FileField(
        _l("Image"),
        description=_l("A JPEG, PNG or WebP picture, up to 8 MB; shown on the page and in shares."),
        render_kw={"accept": ACCEPTED_TYPES},
    )
    # A new image already stored while a confirmation step waited (``keep_for_confirmation``).
    image_kept = HiddenField()
    image_alt = StringField(
        _l("Describe the image (alt text)"),
        validators=[Length(max=ALT_MAX_LENGTH)],  # required with an image: validate_image_alt
        description=_l("What it shows, for people who cannot see it. Required with an image."),
    )
    image_alt_es = StringField(
        _l("Alt text in Spanish"), validators=[Optional(), Length(max=ALT_MAX_LENGTH)]
    )
    image_remove = BooleanField(_l("Remove the image"))

    current_image: Image | None = None
    prepared_image: PreparedImage | None = None
    kept_image: Image | None = None

    def fill_image(self, image: Image | None) -> None:
        self.current_image = image
        if image is not None:
            self.image_alt.data = image.alt
            self.image_alt_es.data = image.alt_es or ""

    def validate_image(self, field: FileField) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            return
        try:
            self.prepared_image = prepare_image(upload.read())
        except ImageRefused as refused:
            raise ValidationError(refused.reason) from None

    def validate_image_kept(self, field: HiddenField) -> None:
        self.kept_image = kept_image(field.data) if field.data else None

    def validate_image_alt(self, field: StringField) -> None:
        keeps_one = any(
            image is not None
            for image in (self.prepared_image, self.kept_image, self.current_image)
        )
        if keeps_one and not self.image_remove.data and not field.data:
            raise ValidationError(
                _l("Describe the image in a few words (alt text), for people who cannot see it.")
            )

    def image_choice(self) -> ImageChoice:
        return ImageChoice(
            upload=self.prepared_image,
            alt=self.image_alt.data or "",
            alt_es=self.image_alt_es.data or None,
            remove=bool(self.image_remove.data),
            kept=self.kept_image if self.prepared_image is None else None,
        )


class SiteLookForm(ImageFields, Form):
    introduction = TextAreaField(
        _l("Introduction on the home page (Markdown)"), validators=[Length(max=10_000)]
    )
    introduction_es = TextAreaField(
        _l("Introduction in Spanish (Markdown)"), validators=[Length(max=10_000)]
    )
    image = FileField(
        _l("Logo"),
        description=_l("A JPEG, PNG or WebP picture, up to 8 MB; shown in every page's header."),
        render_kw={"accept": ACCEPTED_TYPES},
    )
    image_remove = BooleanField(_l("Remove the logo"))
