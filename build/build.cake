// Cake targets: parse arguments, call the `happywhale` program, nothing else.
// All logic lives in src/HappyWhale, where the tests reach it.

var target        = Argument("target", "Experiment");
var configuration = Argument("configuration", "Release");
var exp           = Argument<string>("exp", null);
var sets          = Arguments<string>("set", new string[0]);
var overlays      = Arguments<string>("overlay", new string[0]);
var force         = HasArgument("force") ? Argument<string>("force", "true") : null;
var torchBackend  = Argument("torch-backend", "cpu");   // cpu | cuda: which libtorch package the program is built with
// docs/slurm.md: --executor=slurm runs each stage not yet cached as a Slurm job; --retry=N, --detach.
var executor      = Argument<string>("executor", null);
var retry         = Argument<string>("retry", null);
var root          = MakeAbsolute(Directory(".."));  // script lives in build/
var cli           = root.CombineWithFilePath($"src/HappyWhale.Cli/bin/{configuration}/net10.0/HappyWhale.Cli.dll");

// The options each target reads. Anything else stops the build naming the nearest valid option, so a
// misspelt --sett cannot run with the defaults. Cake's own options (--verbosity...) pass.
var executorOptions = new[] { "executor", "retry", "detach" };
var pipelineOptions = new[] { "exp", "set", "overlay", "force" }.Concat(executorOptions).ToArray();
var targetOptions = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
{
    ["Build"] = new string[0], ["Clean"] = new string[0], ["Test"] = new string[0], ["Bench"] = new[] { "bench" },
    ["Synth"] = pipelineOptions.Append("preview").ToArray(), ["Prepare"] = pipelineOptions, ["Train"] = pipelineOptions,
    ["Evaluate"] = pipelineOptions, ["Experiment"] = pipelineOptions, ["SyncTracking"] = new[] { "exp", "set", "overlay" },
    ["Ablation"] = new[] { "ablation", "force" }.Concat(executorOptions).ToArray(), ["Diff"] = new[] { "exps", "set" },
    ["Regression"] = new[] { "update-baselines", "seeds", "seed", "exact", "force" }.Concat(executorOptions).ToArray(),
    ["Status"] = new[] { "ablation", "exp", "regression" }, ["Cancel"] = new[] { "ablation", "exp", "regression" },
};
var cakeOptions = new[] { "target", "t", "configuration", "verbosity", "v", "debug", "d", "dryrun", "noop", "whatif", "exclusive", "e",
    "showdescription", "description", "showtree", "tree", "help", "info", "version", "bootstrap", "skip-bootstrap", "settings_skipverification" };
if (targetOptions.TryGetValue(target, out var readByTarget))
{
    // --torch-backend is read by Build, which every target that runs the program depends on.
    var accepted = readByTarget.Concat(cakeOptions).Append("torch-backend").ToList();
    foreach (var given in Context.Arguments.GetArguments().Keys.Where(k => !accepted.Contains(k, StringComparer.OrdinalIgnoreCase)))
    {
        var nearest = readByTarget.Concat(new[] { "target", "configuration", "verbosity" })
            .Select(o => (Option: o, Distance: EditDistance(given.ToLowerInvariant(), o))).OrderBy(p => p.Distance).First();
        var hint = nearest.Distance <= Math.Max(2, (given.Length + 2) / 3) ? $"; did you mean --{nearest.Option}?" : "";
        var takes = readByTarget.Length == 0 ? "no options" : string.Join(", ", readByTarget.Select(o => "--" + o));
        throw new CakeException(2, $"unknown option --{given} for target {target}{hint} ({target} takes {takes}).");
    }
}

static int EditDistance(string a, string b)
{
    var d = new int[a.Length + 1, b.Length + 1];
    for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
    for (int j = 0; j <= b.Length; j++) d[0, j] = j;
    for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
    return d[a.Length, b.Length];
}

void Happywhale(string verb, params string[] extra)
{
    var args = new ProcessArgumentBuilder();
    args.AppendQuoted(cli.FullPath).Append(verb);
    if (exp != null) args.Append("--exp").AppendQuoted(exp);
    foreach (var s in sets) args.Append("--set").AppendQuoted(s);
    foreach (var o in overlays) args.Append("--overlay").AppendQuoted(o);
    if (force != null) args.Append(force == "true" || force == "" ? "--force" : $"--force={force}");
    if (executor != null) args.Append($"--executor={executor}");
    if (retry != null) args.Append($"--retry={retry}");
    if (HasArgument("detach")) args.Append("--detach");
    foreach (var e in extra) if (e != null) args.AppendQuoted(e);
    var env = new Dictionary<string, string>();
    // build.sh picks the allocator; only the training process should preload it.
    var preload = EnvironmentVariable("HAPPYWHALE_PRELOAD");
    if (!string.IsNullOrEmpty(preload)) env["LD_PRELOAD"] = preload;
    int code = StartProcess("dotnet", new ProcessSettings { Arguments = args, WorkingDirectory = root, EnvironmentVariables = env });
    // The program's exit code passes through: 2 is bad input, 3 a regression.
    if (code != 0) throw new CakeException(code, $"happywhale {verb} failed (exit code {code}); see the message above.");
}

void RequireExp()
{
    if (string.IsNullOrEmpty(exp)) throw new CakeException(2, "This target needs an experiment: --exp=NAME (a file under experiments/, .yaml optional).");
}

Task("Build").Does(() =>
{
    DotNetBuild(root.CombineWithFilePath("src/HappyWhale.Cli/HappyWhale.Cli.csproj").FullPath,
        new DotNetBuildSettings { Configuration = configuration, NoLogo = true, Verbosity = DotNetVerbosity.Quiet,
            MSBuildSettings = new DotNetMSBuildSettings().WithProperty("TorchBackend", torchBackend) });
});

Task("Test").Does(() =>
{
    var results = root.Combine("artifacts/test-results");
    DotNetTest(root.CombineWithFilePath("HappyWhale.sln").FullPath, new DotNetTestSettings
    {
        Configuration = configuration,
        NoLogo = true,
        Loggers = new[] { "console;verbosity=normal", "trx;LogFileName=tests.trx" },
        ResultsDirectory = results,
    });
});

// --bench=knn (default): kNN + MAP@5 at competition size, C# and numpy side by side (docs/benchmarks.md).
// --bench=prepare: 20,000 synthetic photos prepared at 256 px: peak memory, shard read rate vs training.
// --bench=train: training img/s of the Trainer and a PyTorch script side by side, plus a contention row.
// --bench=oneshot: omniglot_oneshot against ../shared/omniglot-ref's --val mode at the same wall-clock budget, two seeds each.
Task("Bench").Does(() =>
{
    var script = Argument("bench", "knn") switch
    {
        "knn" => "bench_vs_numpy.sh",
        "prepare" => "bench_prepare.sh",
        "train" => "bench_train.sh",
        "oneshot" => "oneshot_vs_reference.sh",
        var other => throw new CakeException(2, $"--bench={other}: unknown benchmark; use knn, prepare, train or oneshot."),
    };
    int code = StartProcess("bash", new ProcessSettings { Arguments = $"tests/HappyWhale.Benchmarks/{script}", WorkingDirectory = root });
    if (code != 0) throw new Exception($"the benchmark failed (exit code {code}); see the message above.");
});

Task("Synth").IsDependentOn("Build").Does(() => Happywhale("synth", HasArgument("preview") ? "--preview" : null));
Task("Prepare").IsDependentOn("Build").Does(() => { RequireExp(); Happywhale("prepare"); });
Task("Train").IsDependentOn("Build").Does(() => { RequireExp(); Happywhale("train"); });
Task("Evaluate").IsDependentOn("Build").Does(() => { RequireExp(); Happywhale("evaluate"); });
// Identify new photos with the experiment's trained model(s) (training first if needed):
// --images=DIR_OR_ZIP [--gallery=DIR_OR_ZIP] [--top=5] [--out=DIR] [--sheet=20].
Task("Predict").IsDependentOn("Build").Does(() =>
{
    RequireExp();
    var images = Argument<string>("images", null) ?? throw new Exception("Predict needs --images=DIR_OR_ZIP (a folder of photos, a .zip of photos or one photo).");
    // Relative paths are relative to the repository (the program runs there).
    var extra = new List<string> { "--images", images };
    foreach (var name in new[] { "gallery", "out", "top", "sheet" })
        if (Argument<string>(name, null) is string value) extra.AddRange(new[] { "--" + name, value });
    Happywhale("predict", extra.ToArray());
});
// Prepare -> Train -> Evaluate -> Report in one process, so one summary table covers them all.
Task("Experiment").IsDependentOn("Build").Does(() => { RequireExp(); Happywhale("run"); });
// Send MLflow records spooled while the server was unreachable; mark runs of dead processes KILLED.
Task("SyncTracking").IsDependentOn("Build").Does(() => Happywhale("sync-tracking"));

// Every variant x seed of experiments/ablations/NAME.yaml, then artifacts/reports/NAME/report.md with charts.
Task("Ablation").IsDependentOn("Build").Does(() =>
{
    var name = Argument<string>("ablation", null) ?? throw new CakeException(2, "Ablation needs --ablation=NAME (a file under experiments/ablations/).");
    Happywhale("ablation", "--ablation", name);
});

// The resolved keys that differ between two experiments, and their latest runs' metrics side by side.
Task("Diff").IsDependentOn("Build").Does(() =>
{
    var pair = (Argument<string>("exps", null) ?? throw new CakeException(2, "Diff needs --exps=A,B")).Split(',');
    if (pair.Length != 2) throw new CakeException(2, "Diff needs exactly two experiments: --exps=A,B");
    Happywhale("diff", pair[0], pair[1]);
});

// experiments/ci/ against experiments/ci/baselines.yaml; --update-baselines rewrites them on purpose.
Task("Regression").IsDependentOn("Build").Does(() => Happywhale("regression", HasArgument("update-baselines") ? "--update-baselines" : null,
    HasArgument("exact") ? "--exact" : null, HasArgument("seed") ? $"--seed={Argument<string>("seed")}" : null,
    HasArgument("seeds") ? $"--seeds={Argument<string>("seeds")}" : null));

// The Slurm jobs of the latest submission (--ablation=NAME, --exp=NAME or --regression), and cancelling them.
string[] Submission() => new[] { HasArgument("ablation") ? "--ablation=" + Argument<string>("ablation") : null, HasArgument("regression") ? "--regression" : null };
Task("Status").IsDependentOn("Build").Does(() => Happywhale("status", Submission()));
Task("Cancel").IsDependentOn("Build").Does(() => Happywhale("cancel", Submission()));

Task("Clean").Does(() =>
{
    var artifacts = root.Combine("artifacts");
    if (DirectoryExists(artifacts)) DeleteDirectory(artifacts, new DeleteDirectorySettings { Recursive = true, Force = true });
    Information("Removed artifacts/ (cache, mlruns, runs, reports).");
});

RunTarget(target);
