@echo off
rem SPDX-License-Identifier: Apache-2.0
rem Sets the origin of the certificate-management page that may use kunci-agent on this PC:
rem writes %ProgramData%\kunci\agent.conf and Firefox's LocalNetworkAccess SkipDomains policy.
rem The MSI runs it as SYSTEM (AMS_ORIGIN); an administrator may run it too:
rem     kunci-set-origin.cmd set https://ams.example.id
rem Chrome's and Edge's policies belong to the MSI: see README.txt.
rem
rem   set ORIGIN [replace|keep]   keep: leave an existing agent.conf as it is
rem   unset-firefox ORIGIN        remove the Firefox SkipDomains entry for ORIGIN's host
setlocal EnableExtensions DisableDelayedExpansion
rem No "a || b" below: wine's cmd runs b whatever a returned.

set "action=%~1"
set "origin=%~2"
set "mode=%~3"
if "%mode%"=="" set "mode=replace"
if "%origin%"=="" goto usage

rem The host of scheme://host[:port]: Firefox's policy lists domain names, not origins.
set "host=%origin:*://=%"
for /f "delims=:/" %%h in ("%host%") do set "host=%%h"
if "%host%"=="" goto usage

set "ffkey=HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla\Firefox\LocalNetworkAccess\SkipDomains"
if /i "%action%"=="unset-firefox" goto unset_firefox
if /i not "%action%"=="set" goto usage

set "confdir=%ProgramData%\kunci"
set "conf=%confdir%\agent.conf"
if not exist "%confdir%" mkdir "%confdir%"
if not exist "%confdir%" exit /b 1
if exist "%conf%" if /i "%mode%"=="keep" goto firefox
if exist "%conf%" copy /y "%conf%" "%conf%.previous" >nul
if errorlevel 1 exit /b 1

set "tmp=%conf%.new"
> "%tmp%" echo // kunci-agent's settings for every user of this PC (JSON; // comments allowed).
>>"%tmp%" echo // Written by kunci-set-origin.cmd for %origin%; the installer keeps this file on
>>"%tmp%" echo // upgrade and uninstall. Each user's %%APPDATA%%\kunci\agent.conf, when present,
>>"%tmp%" echo // overrides these key by key, and the agent's command line overrides both.
>>"%tmp%" echo // Check what the agent makes of them with: kunci-agent --check-config
>>"%tmp%" echo {
>>"%tmp%" echo     // The loopback address and port the agent listens on.
>>"%tmp%" echo     // "listen": "127.0.0.1:27853",
>>"%tmp%" echo.
>>"%tmp%" echo     // PKCS#11 modules to load, not discovered: see kunci-agent --list-modules
>>"%tmp%" echo     // "modules": ["C:\\Windows\\System32\\eps2003csp11.dll"],
>>"%tmp%" echo.
>>"%tmp%" echo     // Leave the PIN to the page or the reader's PIN pad instead of the PIN dialog.
>>"%tmp%" echo     // "noPinentry": false,
>>"%tmp%" echo.
>>"%tmp%" echo     // Warn the holder of certificates expiring within this many days; 0: never.
>>"%tmp%" echo     // "expiryWarningDays": 30,
>>"%tmp%" echo.
>>"%tmp%" echo     // The origins of the certificate-management pages allowed to use the agent: the
>>"%tmp%" echo     // scheme, host and port the browser shows, no path. Keep this key last.
>>"%tmp%" echo     "allowOrigins": ["%origin%"]
>>"%tmp%" echo }
move /y "%tmp%" "%conf%" >nul
if errorlevel 1 exit /b 1

:firefox
reg add "%ffkey%" /v 1 /t REG_SZ /d "%host%" /f >nul
if errorlevel 1 exit /b 1
exit /b 0

:unset_firefox
rem Only the entry this script wrote: another SkipDomains list (a GPO's) is not ours to remove.
set "current="
for /f "tokens=1,2,*" %%a in ('reg query "%ffkey%" /v 1 2^>nul') do (
    if "%%a"=="1" if "%%b"=="REG_SZ" set "current=%%c"
)
if /i "%current%"=="%host%" reg delete "%ffkey%" /v 1 /f >nul
call :delete_if_empty "%ffkey%"
call :delete_if_empty "HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla\Firefox\LocalNetworkAccess"
call :delete_if_empty "HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla\Firefox"
call :delete_if_empty "HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla"
exit /b 0

rem Deletes a key that holds no value and no subkey. reg query /s prints the key's own name
rem (Windows; wine only when it has values), a line per value and a line per subkey.
:delete_if_empty
set lines=0
for /f "delims=" %%l in ('reg query "%~1" /s 2^>nul') do if /i not "%%l"=="%~1" set /a lines+=1
if "%lines%"=="0" reg delete "%~1" /f >nul 2>&1
exit /b 0

:usage
echo usage: kunci-set-origin.cmd set ORIGIN [replace^|keep]
echo        kunci-set-origin.cmd unset-firefox ORIGIN
exit /b 2
