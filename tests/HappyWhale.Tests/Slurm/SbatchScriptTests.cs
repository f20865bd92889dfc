using HappyWhale.Experiments;
using HappyWhale.Pipeline.Executors;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Slurm;

/// <summary>The batch scripts the slurm executor writes, and bad executor arguments (no Slurm needed).</summary>
public class SbatchScriptTests
{
    static readonly SlurmSpec Settings = new()
    {
        Partition = "gpu", Account = "whales", Gres = "gpu:1", Cpus = 8, Mem = "32G", Time = "04:00:00",
        ExtraSbatch = ["--qos=normal"], Setup = ["module load dotnet/10"], ArrayParallelism = 3,
    };

    [Fact]
    public void Settings_become_sbatch_lines_and_gres_goes_to_the_stages_that_run_the_model()
    {
        string train = SbatchScript.Text(Settings, "train", "hw-train-abc", "/r/logs/x.%j.out", "/r", ["dotnet", "/r/it's.dll", "stage"]);
        foreach (var line in new[] { "#SBATCH --partition=gpu", "#SBATCH --account=whales", "#SBATCH --gres=gpu:1", "#SBATCH --cpus-per-task=8",
                     "#SBATCH --mem=32G", "#SBATCH --time=04:00:00", "#SBATCH --qos=normal", "#SBATCH --kill-on-invalid-dep=yes",
                     "#SBATCH --output=/r/logs/x.%j.out", "module load dotnet/10", "cd '/r'", "export GOMP_SPINCOUNT=\"${GOMP_SPINCOUNT:-2000}\"", @"exec 'dotnet' '/r/it'\''s.dll' 'stage'" })
            Assert.Contains(line + "\n", train);
        Assert.DoesNotContain("--array", train);

        string prepare = SbatchScript.Text(Settings, "prepare", "hw-prepare-x2", "/r/logs/x.%A_%a.out", "/r", ["dotnet", "x.dll", "--index", "$TASK_STAGE"], [4, 7]);
        Assert.DoesNotContain("--gres", prepare);
        Assert.Contains("#SBATCH --array=0-1%3\n", prepare);
        Assert.Contains("STAGES=(4 7)\n", prepare);
        Assert.Contains("'--index' \"$TASK_STAGE\"", prepare);
        // Setup lines run before the program, #SBATCH lines before any command (sbatch stops reading them there).
        Assert.True(prepare.LastIndexOf("#SBATCH", StringComparison.Ordinal) < prepare.IndexOf("set -eo", StringComparison.Ordinal));
    }

    [Fact]
    public void A_setting_that_would_add_a_line_or_is_not_an_option_is_refused()
    {
        var broken = Assert.Throws<UserException>(() => SbatchScript.Text(Settings with { Partition = "gpu\nrm -rf ~" }, "train", "n", "l", "/r", ["x"]));
        Assert.Contains("slurm.partition", broken.Message);
        var notOption = Assert.Throws<UserException>(() => SbatchScript.Text(Settings with { ExtraSbatch = ["qos=normal"] }, "train", "n", "l", "/r", ["x"]));
        Assert.Contains("--qos=normal", notOption.Message);
    }

    [Theory]
    [InlineData("--executor=cluster", "--executor=cluster: unknown executor; use local or slurm")]
    [InlineData("--retry=x", "--retry x: give how many times")]
    [InlineData("--detach --retry=1", "cannot be combined with --detach")]
    public void Bad_executor_arguments_stop_with_exit_code_2_before_anything_runs(string arguments, string message)
    {
        using var repo = SlurmExecutorTests.SlurmRepository();
        var (code, output) = repo.RunCli(["ablation", "--ablation", "ci_slurm", .. arguments.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Contains(message, System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        Assert.False(Directory.Exists(Path.Combine(repo.Root, "artifacts", "cache")));
    }

    [Fact]
    public void Status_without_a_submission_says_how_to_make_one()
    {
        using var repo = new TestRepository();
        var (code, output) = repo.RunCli("status", "--ablation", "seed_tricks");
        Assert.Equal(2, code);
        Assert.Contains("no Slurm submission of ablation seed_tricks", output);
    }
}
