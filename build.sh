#!/usr/bin/env bash
# Restores the pinned Cake tool and runs build/build.cake: ./build.sh --target=Experiment --exp=quickstart
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Cake compiles build.cake once and reuses the assembly while the script is unchanged.
export CAKE_SETTINGS_ENABLESCRIPTCACHE=true
# Allocator and OpenMP settings for the happywhale process (build/runtime_env.sh says why).
source build/runtime_env.sh
dotnet tool restore >/dev/null
exec dotnet tool run dotnet-cake -- build/build.cake "$@"
