using HappyWhale.Tests.EndToEnd;
using static HappyWhale.Tests.BadInputs.Catalogue;

namespace HappyWhale.Tests.BadInputs;

/// <summary>Bad experiment files, --set arguments and command lines: refused before any stage, at the place to edit.</summary>
public class ExperimentInputTests
{
    static void Refused(string yaml, string[] mentions, params string[] extraArgs)
    {
        using var repo = Repository();
        repo.Write("bad.yaml", yaml);
        AssertRefused(repo, ["run", "--exp", "bad", .. extraArgs], mentions);
    }

    // YamlDotNet's scanner repeats an error token forever after "mapping values are not allowed here";
    // before the fix every command hung at 100% CPU with no output.
    [Fact]
    public void A_value_on_a_misindented_line_is_a_syntax_error_at_its_colon() =>
        Refused("prepare:\n  image_size: 64\n  grayscale: true\n   resize: squash\n", ["bad.yaml:4:10", "YAML syntax error", "indentation"]);

    [Fact]
    public void A_set_value_holding_colon_space_is_a_syntax_error_on_line_1()
    {
        using var repo = Repository();
        AssertRefused(repo, ["show", "--exp", "bad-name-is-not-reached", "--set", "description=note: see a: b"], ["no such experiment"]);
        repo.Write("ok.yaml", "description: fine\n");
        AssertRefused(repo, ["show", "--exp", "ok", "--set", "description=note: see a: b"],
            ["--set description=note: see a: b:1:30:", "needs quotes"]);
    }

    [Fact]
    public void An_unclosed_list_in_a_one_line_set_is_located_on_line_1()
    {
        using var repo = Repository();
        repo.Write("ok.yaml", "description: fine\n");
        var output = AssertRefused(repo, ["show", "--exp", "ok", "--set", "train.phases=[{epochs: 2}"], ["--set train.phases=[{epochs: 2}:1:"]);
        Assert.DoesNotContain("}:2:", output);
    }

    [Fact]
    public void A_tab_in_the_indentation_is_located_at_the_tab() =>
        Refused("prepare:\n  image_size: 64\n \tgrayscale: true\n", ["bad.yaml:3:2", "tab", "spaces"]);

    [Theory]
    [InlineData("train:\n  batch_sise: 8\n", "bad.yaml:2:3", "did you mean train.batch_size")]
    [InlineData("train:\n  batch_size: many\n", "bad.yaml:2:15", "train.batch_size must be")]
    [InlineData("train:\n  batch_size: 0\n", "bad.yaml:2:15", "out of range")]
    [InlineData("extends: missing.yaml\n", "bad.yaml:1:10", "missing.yaml")]
    [InlineData("train: [1, 2\n", "bad.yaml:1:", "YAML syntax error")]
    [InlineData("train:\n  seed: 1\n  seed: 2\n", "bad.yaml:3:3", "duplicate key 'seed'")]
    [InlineData("data:\n  folds: 2\n  fold: 5\n", "bad.yaml:3:9", "data.fold = 5 must be below data.folds = 2")]
    [InlineData("synth:\n  individuals: 3\n", "bad.yaml:2:16", "synth.individuals = 3 is out of range [4,")]
    [InlineData("synth:\n  jpeg_quality_min: 90\n  jpeg_quality_max: 80\n", "bad.yaml:2:21", "jpeg_quality_min = 90 is above")]
    [InlineData("model:\n  backbone: resnet19\n", "bad.yaml:2:13", "did you mean resnet18")]
    public void A_bad_experiment_file_stops_before_any_stage(string yaml, string where, string what) => Refused(yaml, [where, what]);

    [Fact]
    public void Fold_beyond_folds_given_with_set_is_refused_at_the_argument()
    {
        using var repo = Repository();
        repo.Write("ok.yaml", "description: fine\n");
        AssertRefused(repo, ["prepare", "--exp", "ok", "--set", "data.folds=2", "--set", "data.fold=5"], ["--set data.fold=5:1:17", "below data.folds = 2"]);
    }

    [Fact]
    public void A_misspelt_option_is_an_error_naming_the_valid_one()
    {
        using var repo = Repository();
        repo.Write("ok.yaml", "description: fine\n");
        AssertRefused(repo, ["show", "--exp", "ok", "--sett", "train.batch_size=3"], ["unknown option --sett for 'show'; did you mean --set?"]);
    }

    [Fact]
    public void An_experiment_name_without_exp_is_an_error_suggesting_it()
    {
        using var repo = Repository();
        AssertRefused(repo, ["run", "quickstart"], ["unexpected argument 'quickstart' for 'run'; did you mean --exp quickstart?"]);
    }

    [Fact]
    public void An_unknown_stage_in_force_is_an_error_listing_the_stages()
    {
        using var repo = Repository();
        repo.Write("ok.yaml", "description: fine\n");
        AssertRefused(repo, ["run", "--exp", "ok", "--force=trian"], ["--force=trian: unknown stage trian", "stages are synth, prepare, pretrained, train, pseudo_label, evaluate"]);
    }

    [Fact]
    public void An_unknown_overlay_is_an_error_listing_the_overlays()
    {
        using var repo = Repository();
        repo.Write("ok.yaml", "description: fine\n");
        AssertRefused(repo, ["run", "--exp", "ok", "--overlay", "gpu"], ["no such overlay", "gpu.yaml"]);
    }

    [Fact]
    public void An_unknown_experiment_is_an_error_saying_where_it_looked()
    {
        using var repo = Repository();
        AssertRefused(repo, ["run", "--exp", "nothere"], ["nothere", "no such experiment"]);
    }

    [Fact]
    public void A_misspelt_build_target_option_is_an_error_naming_the_valid_one()
    {
        // --dryrun: if the option were ignored, Cake would only list the tasks and exit 0.
        string root = TestRepository.SourceRoot();
        var info = new System.Diagnostics.ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "build.sh", "--target=Experiment", "--exp=quickstart", "--sett=train.batch_size=3", "--dryrun" }) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); Assert.Fail("build.sh did not finish in 3 minutes"); }
        string output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 2, $"exit code {process.ExitCode}:\n{output}");
        Assert.Contains("unknown option --sett for target Experiment; did you mean --set?", output);
    }
}
