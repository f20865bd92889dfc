# Restores the pinned Cake tool and runs build/build.cake: ./build.ps1 --target=Experiment --exp=quickstart
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:CAKE_SETTINGS_ENABLESCRIPTCACHE = 'true'
dotnet tool restore | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
dotnet tool run dotnet-cake -- build/build.cake @args
exit $LASTEXITCODE
