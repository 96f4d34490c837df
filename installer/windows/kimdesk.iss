; Inno Setup 6 script: the Windows installer of KIMdesk for one team.
;
; Built on Windows from the bundle folder that installer\build.py made there, e.g.
;
;   py installer\build.py --team nord --inno-setup "C:\Program Files (x86)\Inno Setup 6\ISCC.exe"
;
; or by hand (paths relative to this file):
;
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DTeam=nord /DTeamName="Team 1 Nord"
;       /DAppVersion=0.1.0 /DBundleDir=..\..\dist\KIMdesk-0.1.0-nord-windows-x86_64
;       /DOutputDir=..\..\dist installer\windows\kimdesk.iss
;
; Result: KIMdesk-VERSION-TEAM-windows-x86_64-setup.exe. It installs per machine into
; C:\Program Files\KIMdesk (administrator rights), adds a start menu entry and runs the
; installed program's selftest. The data (the vault of each user) lives outside the program
; folder, in %LOCALAPPDATA%\Kreis Kleve\KIMdesk of each Windows user; neither an update nor
; the uninstaller ever touches it. Silent install for software distribution:
;   KIMdesk-0.1.0-nord-windows-x86_64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /LOG=C:\Windows\Temp\kimdesk-setup.log
; See docs\it\building.md and docs\it\installing.md.

#if Ver < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 oder neuer ist nötig (x64compatible, UTF-8 ohne BOM)
#endif
#ifndef Team
  #error Team fehlt: ISCC /DTeam=nord (Teamcode wie in installer\profiles)
#endif
#ifndef AppVersion
  #error AppVersion fehlt: ISCC /DAppVersion=0.1.0 (kimdesk.__version__)
#endif
#ifndef BundleDir
  #error BundleDir fehlt: ISCC /DBundleDir=..\..\dist\KIMdesk-VERSION-TEAM-windows-x86_64
#endif
#ifndef TeamName
  #define TeamName Team
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

#define AppName "KIMdesk"
#define GuiExe "kimdesk-gui.exe"
#define CliExe "kimdesk.exe"

[Setup]
; One AppId for every team: installing another team's package on a laptop updates the same
; installation (and with it the profile) instead of putting a second KIMdesk beside it.
AppId={{A34D844A-C045-4848-B871-8231EC23BF25}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion} ({#TeamName})
AppPublisher=Kreis Kleve – Kommunales Integrationsmanagement
AppComments=Fallmanagement des Kommunalen Integrationsmanagements, Installationsprofil {#TeamName}
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} Setup ({#TeamName})
; Per machine, for every user of the laptop; only administrators install or update.
PrivilegesRequired=admin
DefaultDirName={autopf}\{#AppName}
DisableDirPage=yes
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-{#Team}-windows-x86_64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running KIMdesk is closed (it locks its vault on the way out) before files are replaced.
CloseApplications=yes
RestartApplications=no
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName} ({#TeamName})
SetupLogging=yes
ShowLanguageDialog=no
LanguageDetectionMethod=none

[Languages]
Name: "german"; MessagesFile: "compiler:Languages\German.isl"

[Tasks]
Name: "desktopicon"; Description: "Verknüpfung auf dem Desktop anlegen"; Flags: unchecked

[InstallDelete]
; An update replaces the whole program: no library or migration of the previous version stays
; behind. Only the program folder; the users' data is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Comment: "Fallmanagement KIM Kreis Kleve"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{#AppName} jetzt starten"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallDelete]
; Only what the program itself may have left in its folder. The data directories of the users
; (%LOCALAPPDATA%\Kreis Kleve\KIMdesk) are deliberately NOT listed: uninstalling never deletes
; a vault. IT deletes a vault only on purpose (docs\it\installing.md, "Gerät ausmustern").
Type: filesandordirs; Name: "{app}\_internal"
Type: dirifempty; Name: "{app}"

[Messages]
german.FinishedLabel=KIMdesk ist installiert. Beim ersten Start legt jede Benutzerin und jeder Benutzer einen eigenen Datentresor an; danach meldet die Kreis-IT das Gerät mit „kimdesk enrol“ beim Kreis-Server an.

[Code]
// The installed program checks itself: `kimdesk selftest` creates, fills, searches and reopens
// a throwaway vault in the temp folder and reads the baked-in profile. A failure is shown (or
// logged when silent) but does not roll the installation back: IT needs the files to look.
procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
begin
  if CurStep = ssPostInstall then
  begin
    WizardForm.StatusLabel.Caption := 'Selbsttest von KIMdesk …';
    if not Exec(ExpandConstant('{app}\{#CliExe}'), 'selftest', ExpandConstant('{app}'),
                SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    begin
      Log(Format('KIMdesk selftest failed, exit code %d', [ResultCode]));
      SuppressibleMsgBox('Der Selbsttest von KIMdesk ist fehlgeschlagen (Rückgabewert ' +
        IntToStr(ResultCode) + '). Bitte in einer Eingabeaufforderung "' +
        ExpandConstant('{app}\{#CliExe}') + ' selftest" ausführen und die Meldung an die ' +
        'Kreis-IT geben.', mbError, MB_OK, IDOK);
    end
    else
      Log('KIMdesk selftest passed');
  end;
end;

// Say so before uninstalling, so nobody expects the data to go with the program.
function InitializeUninstall(): Boolean;
begin
  Result := True;
  if not UninstallSilent then
    MsgBox('KIMdesk wird von diesem Gerät entfernt. Die Datentresore der Benutzerinnen und ' +
      'Benutzer (Ordner "Kreis Kleve\KIMdesk" in ihrem lokalen Anwendungsdatenordner) bleiben ' +
      'erhalten und werden nicht gelöscht.', mbInformation, MB_OK);
end;
