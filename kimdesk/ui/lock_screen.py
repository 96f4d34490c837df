"""The page shown while the vault is locked: unlock, or on first start create the vault.

"Passwort vergessen?" turns the page into the recovery form: the printed recovery code and a new
password (twice) open the vault, give it a new key and show the new recovery code once. New
passwords are checked for strength (zxcvbn, explained in German) as they are typed.
Argon2id takes a moment on purpose, so unlocking runs off the GUI thread.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk import APP_NAME, config
from kimdesk.casework.profile import create_profile
from kimdesk.casework.recovery import recover_with_code
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui import printing
from kimdesk.ui.fields import CodeCombo, FieldErrors
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.state import AppState
from kimdesk.vault import create_vault

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from kimdesk.vault.keys import is_well_formed_recovery_code
from kimdesk.vault.passwords import check_password_policy, estimate_strength


def _recovery_code_pdf(code: str, printed_on: date) -> bytes:
    # The PDF library loads when a code is printed, not before the lock screen shows (start).
    from kimdesk.reports.recovery import recovery_code_pdf

    return recovery_code_pdf(code, printed_on)


class RecoveryCodeDialog(QDialog):
    """Shows the recovery code once; it is never stored anywhere else in plaintext."""

    def __init__(self, code: str, parent: QWidget | None = None, *,
                 renewed: bool = False, printed_on: date | None = None) -> None:
        super().__init__(parent)
        self._code = code
        self._printed_on = printed_on or date.today()
        self.choose_path: printing.PathChooser | None = None  # test seam; None: save dialog
        self.setWindowTitle("Wiederherstellungscode")
        first = ("<p>Ihr neues Passwort gilt, und der Datentresor hat einen neuen Schlüssel. "
                 "Der bisherige Wiederherstellungscode gilt <b>nicht mehr</b>. Dies ist Ihr "
                 "<b>neuer Wiederherstellungscode</b>.</p>" if renewed else
                 "<p>Ihr Datentresor ist angelegt. Dies ist Ihr <b>Wiederherstellungscode</b>. "
                 "Mit ihm kommen Sie an Ihre Daten, wenn Sie das Passwort vergessen.</p>")
        text = QLabel(
            first +
            "<p>Bitte jetzt ausdrucken oder abschreiben und getrennt vom Laptop sicher "
            "aufbewahren. Er wird nicht noch einmal angezeigt.</p>")
        text.setWordWrap(True)
        code_label = QLabel(code, objectName="recovery_code")
        code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        code_label.setStyleSheet("font-family: monospace; font-size: 18pt; padding: 8px;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Ich habe den Code notiert")
        buttons.accepted.connect(self.accept)
        # "ausdrucken" needs a way to print: a one-page PDF, made in memory and written only
        # where the user saves it (to print it from there or keep it on a USB stick).
        self.print_button = QPushButton("Zum Ausdrucken als &PDF speichern …",
                                        objectName="print_recovery_code")
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.clicked.connect(self.save_pdf)
        self.status = QLabel(objectName="recovery_print_status")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(code_label, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def save_pdf(self) -> None:
        code, printed_on = self._code, self._printed_on
        self.print_button.setEnabled(False)

        def done(text: str) -> None:
            self.print_button.setEnabled(True)
            self.status.setText(text)

        printing.save_document(
            self, lambda: _recovery_code_pdf(code, printed_on),
            printing.file_name("Wiederherstellungscode", APP_NAME, printed_on),
            title="Wiederherstellungscode als PDF speichern", choose_path=self.choose_path,
            on_saved=lambda path: done(f"Gespeichert: {path}. Bitte ausdrucken und die Datei "
                                       "danach löschen."),
            on_cancelled=lambda: done(""), on_failed=done)


class LockScreen(QWidget):
    unlocked = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._busy = False
        self._demo_hint = ""

        self.title = QLabel(objectName="lock_title")
        self.hint = QLabel(objectName="lock_hint")
        self.hint.setWordWrap(True)
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_repeat = QLineEdit(objectName="password_repeat")
        self.password_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_name = QLineEdit(objectName="user_name")
        self.team = CodeCombo(((t.code, t.name) for t in state.reference.teams), parent=self)
        self.team.setObjectName("team")
        self.team.set_code(_installed_team())
        self.fte = QDoubleSpinBox(objectName="fte")
        self.fte.setRange(0.1, 1.0)
        self.fte.setSingleStep(0.1)
        self.fte.setValue(1.0)
        self.recovery_code = QLineEdit(objectName="recovery_code_input")
        self.recovery_code.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XX")
        self.strength = QLabel(objectName="password_strength")
        self.strength.setWordWrap(True)
        self.submit = QPushButton(objectName="unlock")
        self.submit.setDefault(True)
        self.forgot = QPushButton("Passwort vergessen?", objectName="forgot_password")
        self.forgot.setFlat(True)
        self.back = QPushButton("Zurück zum Entsperren", objectName="back_to_unlock")
        self.back.setFlat(True)
        self._recovering = False
        self.message = QLabel(objectName="lock_message")
        self.errors = FieldErrors(self.message, {
            "password": self.password, "user_name": self.user_name, "team": self.team,
            "fte": self.fte, "password_repeat": self.password_repeat,
            "recovery_code": self.recovery_code})

        self.form = QFormLayout()
        card = QFrame(objectName="lock_card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        # A fixed width lets the wrapped hint compute its height (no clipped lines).
        card.setFixedWidth(480)
        inner = QVBoxLayout(card)
        inner.addWidget(self.title)
        inner.addWidget(self.hint)
        inner.addLayout(self.form)
        inner.addWidget(self.message)
        inner.addWidget(self.submit)
        inner.addWidget(self.forgot, alignment=Qt.AlignmentFlag.AlignRight)
        inner.addWidget(self.back, alignment=Qt.AlignmentFlag.AlignRight)
        # Centred by stretches rather than an alignment flag: an aligned item gets only its size
        # hint, which squeezes the wrapped hint and error texts; a row asks for its
        # height-for-width.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.submit.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.password_repeat.returnPressed.connect(self._submit)
        self.forgot.clicked.connect(lambda: self._show_recovery(True))
        self.back.clicked.connect(lambda: self._show_recovery(False))
        self.password.textChanged.connect(self._show_strength)
        self.prepare()

    def show_demo_hint(self, password: str) -> None:
        """The demo vault holds invented people only; its password may stand on screen."""
        self._demo_hint = (f"Demo-Datentresor mit erfundenen Personen – Passwort: "
                           f"„{password}“")
        self.prepare()

    @property
    def first_start(self) -> bool:
        return not self._state.vault_exists

    def prepare(self) -> None:
        """Lay out the form for unlocking or for the first start; clears the password."""
        while self.form.rowCount():
            row = self.form.takeRow(0)
            label = row.labelItem.widget() if row.labelItem is not None else None
            if label is not None:  # the row's caption, made by addRow(text, …): not reused
                label.hide()
                label.deleteLater()
        for widget in (self.user_name, self.team, self.fte, self.password_repeat,
                       self.recovery_code, self.strength):
            widget.setParent(None)
        self.password.clear()
        self.password_repeat.clear()
        self.recovery_code.clear()
        self.strength.clear()
        self.errors.clear()
        recovering = self._recovering and not self.first_start
        self.forgot.setVisible(not self.first_start and not recovering)
        self.back.setVisible(recovering)
        if recovering:
            self.title.setText("<h2>Passwort vergessen</h2>")
            self.hint.setText(
                "Geben Sie den Wiederherstellungscode ein, den Sie beim Anlegen des "
                "Datentresors ausgedruckt oder notiert haben, und wählen Sie ein neues Passwort. "
                "Der Datentresor bekommt dabei einen neuen Schlüssel und Sie einen neuen Code; "
                "der alte gilt danach nicht mehr. Ohne Code hilft die Kreis-IT.")
            self.form.addRow("Wiederherstellungscode", self.recovery_code)
            self.form.addRow("Neues Passwort", self.password)
            self.form.addRow("", self.strength)
            self.form.addRow("Neues Passwort wiederholen", self.password_repeat)
            self.submit.setText("Neues Passwort setzen")
            self.recovery_code.setFocus()
        elif self.first_start:
            self.title.setText(f"<h2>Willkommen bei {APP_NAME}</h2>")
            self.hint.setText(
                "Auf diesem Laptop gibt es noch keinen Datentresor. Legen Sie ihn jetzt an: "
                "alle Daten der Ratsuchenden werden darin verschlüsselt gespeichert. Das "
                "Passwort braucht mindestens 10 Zeichen und darf nicht leicht zu erraten sein, "
                "z. B. drei oder vier Wörter, die nicht zusammengehören.")
            self.form.addRow("Ihr Name", self.user_name)
            self.form.addRow("Team", self.team)
            self.form.addRow("Stellenanteil (VZÄ)", self.fte)
            self.form.addRow("Passwort", self.password)
            self.form.addRow("", self.strength)
            self.form.addRow("Passwort wiederholen", self.password_repeat)
            self.submit.setText("Datentresor anlegen")
            self.user_name.setFocus()
        else:
            self.title.setText(f"<h2>{APP_NAME} ist gesperrt</h2>")
            self.hint.setText("Bitte geben Sie Ihr Passwort ein, um den Datentresor zu öffnen."
                              + (f"<br><br><i>{self._demo_hint}</i>" if self._demo_hint else ""))
            self.form.addRow("Passwort", self.password)
            self.submit.setText("Entsperren")
            self.password.setFocus()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.submit.setEnabled(not busy)
        self.password.setEnabled(not busy)
        if busy:
            self.errors.clear()
            self.message.setStyleSheet("color: palette(text);")
            self.message.setText(text)
            self.message.show()

    def _submit(self) -> None:
        if self._busy:
            return
        if self.first_start:
            self._create()
            return
        if self._recovering:
            self._recover()
            return
        password = self.password.text()
        self._set_busy(True, "Datentresor wird geöffnet …")
        run_in_background(self, lambda: self._state.open_vault(password),
                          self._opened, self._failed)

    def _opened(self, vault: object) -> None:
        self._set_busy(False)
        self.password.clear()
        self._state.attach(vault)  # type: ignore[arg-type]
        self.errors.clear()
        self.unlocked.emit()

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.password.selectAll()
        if isinstance(exc, KimdeskError):
            self.errors.show(exc.message, "password")
        else:
            self.errors.show("Der Datentresor konnte nicht geöffnet werden.", "password")

    def _create(self) -> None:
        try:
            if not self.user_name.text().strip():
                raise ValidationError("Bitte Ihren Namen angeben.", "user_name")
            check_password_policy(self.password.text(),
                                  user_inputs=[self.user_name.text().strip()])
            if self.password.text() != self.password_repeat.text():
                raise ValidationError("Die beiden Passwörter stimmen nicht überein.",
                                      "password_repeat")
        except ValidationError as exc:
            self.errors.show(exc.message, exc.field)
            return
        password, name = self.password.text(), self.user_name.text().strip()
        team, fte = self.team.code() or "", self.fte.value()

        def create() -> tuple[object, str]:
            vault, code = create_vault(self._state.data_dir, password,
                                       county_public_key=_county_recovery_key(),
                                       user_inputs=[name])
            try:
                create_profile(vault, name, team, fte=fte, reference=self._state.reference)
            except Exception:
                vault.close()
                raise
            return vault, code

        self._set_busy(True, "Datentresor wird angelegt …")
        run_in_background(self, create, self._created, self._failed)

    def _show_recovery(self, recovering: bool) -> None:
        """Switch between the unlock form and the "Passwort vergessen?" form."""
        if self._busy:
            return
        self._recovering = recovering
        self.prepare()

    def _show_strength(self, text: str) -> None:
        """The strength of a new password as it is typed (first start and recovery only)."""
        if not (self.first_start or self._recovering) or not text:
            self.strength.clear()
            return
        name = [self.user_name.text().strip()] if self.first_start else []
        self.strength.setText(estimate_strength(text, name).summary())

    def _recover(self) -> None:
        code, password = self.recovery_code.text(), self.password.text()
        try:
            if not is_well_formed_recovery_code(code):
                raise ValidationError("Der Wiederherstellungscode besteht aus 26 Ziffern und "
                                      "Buchstaben (Bindestriche und Leerzeichen sind egal).",
                                      "recovery_code")
            check_password_policy(password)
            if password != self.password_repeat.text():
                raise ValidationError("Die beiden Passwörter stimmen nicht überein.",
                                      "password_repeat")
            county_key = _county_recovery_key()
        except KimdeskError as exc:
            self.errors.show(exc.message, getattr(exc, "field", None) or "password")
            return
        data_dir = self._state.data_dir

        def recover() -> tuple[object, str]:
            return recover_with_code(data_dir, code, password, county_public_key=county_key)

        self._set_busy(True, "Datentresor wird geöffnet und neu verschlüsselt …")
        run_in_background(self, recover, self._recovered, self._recovery_failed)

    def _recovery_failed(self, exc: Exception) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError):
            self.errors.show(exc.message, exc.field or "password")
        elif isinstance(exc, KimdeskError):
            field = "recovery_code" if "Wiederherstellungscode" in exc.message else "password"
            self.errors.show(exc.message, field)
        else:
            self.errors.show("Der Datentresor konnte nicht geöffnet werden.", "recovery_code")

    def _recovered(self, result: tuple[object, str]) -> None:
        vault, code = result
        self.recovery_dialog = RecoveryCodeDialog(code, self.window(), renewed=True,
                                                  printed_on=self._state.today())
        self.recovery_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_dialog.open()
        self._recovering = False
        self._opened(vault)
        self.prepare()

    def _created(self, result: tuple[object, str]) -> None:
        vault, code = result
        # Shown window-modal on top of the unlocked app: nothing proceeds behind a blocking
        # exec(), and the code is never written anywhere.
        self.recovery_dialog = RecoveryCodeDialog(code, self.window(),
                                                  printed_on=self._state.today())
        self.recovery_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_dialog.open()
        self._opened(vault)
        self.prepare()


def _county_recovery_key() -> X25519PublicKey | None:
    """The county's recovery key from the installation profile (None in a developer checkout).

    An invalid profile stops the creation with its German message (KimdeskError).
    """
    return config.county_recovery_key()


def _installed_team() -> str | None:
    """The team the installer was built for: the first start proposes it."""
    try:
        profile = config.install_profile()
    except KimdeskError:
        return None  # an invalid profile is reported where it matters (sync, selftest)
    return profile.team if profile is not None else None
