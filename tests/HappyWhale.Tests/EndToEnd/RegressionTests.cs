using HappyWhale.Reporting;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>The regression check fails the build when a metric falls, and prints what fell.</summary>
public class RegressionTests
{
    const string Learnable = """
        synth:
          seed: 3
          individuals: 10
          images_per_individual: 6
          test_images: 30
          image_size: 64
        prepare:
          image_size: 32
        model:
          embedding_dim: 32
          head:
            m: 0.1
        train:
          phases:
            - epochs: 8
              lr: 3.0e-3
          batch_size: 16
          validate_each_epoch: false
        """;

    [Fact]
    public void A_weakened_experiment_makes_regression_exit_non_zero_with_the_table()
    {
        using var repo = new TestRepository();
        Directory.CreateDirectory(Path.Combine(repo.Experiments, "ci"));
        repo.Write("ci/tiny.yaml", Learnable);

        var update = repo.RunCli("regression", "--update-baselines");
        Assert.True(update.ExitCode == 0, update.Output);
        var baselines = RegressionCheck.Read(Path.Combine(repo.Experiments, "ci", RegressionCheck.BaselinesFile));
        Assert.Equal(["val_map5", "test_map5"], baselines.Select(b => b.Metric));

        var same = repo.RunCli("regression");
        Assert.True(same.ExitCode == 0, same.Output);
        Assert.Contains("ok", same.Output);

        // A learning rate of zero: the model never leaves its random initialisation.
        repo.Write("ci/tiny.yaml", Learnable.Replace("lr: 3.0e-3", "lr: 0.0"));
        var weakened = repo.RunCli("regression");
        Assert.Equal(3, weakened.ExitCode);
        Assert.Contains("FELL", weakened.Output);
        Assert.Contains("ci/tiny", weakened.Output);
        Assert.Contains("fell beyond their tolerance", weakened.Output);
        Assert.DoesNotContain("   at ", weakened.Output);
    }

    [Fact]
    public void Compare_flags_only_drops_beyond_the_tolerance_and_missing_metrics()
    {
        var baselines = new[]
        {
            new Baseline("a", "test_map5", 0.50, 0.01, ""), new Baseline("a", "val_map5", 0.40, 0.0, ""), new Baseline("b", "test_map5", 0.3, 0.0, ""),
        };
        var rows = RegressionCheck.Compare(baselines, new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["a"] = new Dictionary<string, double> { ["test_map5"] = 0.495, ["val_map5"] = 0.3999 },
        });
        Assert.False(rows[0].Fell);
        Assert.True(rows[1].Fell);
        Assert.True(rows[2].Fell);
        Assert.Null(rows[2].Actual);
    }
}
