using HappyWhale.Reporting;
using HappyWhale.Pipeline;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>The regression check tells a real drop from seed noise, and fails the build on the drop only.</summary>
public class RegressionTests
{
    // Small enough for CI (five short single-thread trainings of ResNet-18 at 32 px), large enough that chance
    // alone rarely puts the right individual in the top five. Measured here (2026-12-01): seeds 1-3 gave test
    // MAP@5 0.3247, 0.3250, 0.3444 (val 0.4936, 0.5079, 0.4770); seed 4 0.3144 (val 0.4655); learning rate 0
    // 0.1950 (val 0.4279).
    const string Learnable = """
        synth:
          seed: 3
          individuals: 40
          images_per_individual: 5
          test_images: 60
          image_size: 64
        prepare:
          image_size: 32
        model:
          backbone: resnet18
          embedding_dim: 32
          head:
            m: 0.1
        train:
          phases:
            - epochs: 14
              lr: 3.0e-3
          batch_size: 32
          threads: 1
          validate_each_epoch: false
        """;

    // Three of the 60 test queries: three seeds estimate the sd roughly, and another CPU makes another seed.
    const double TinyFloor = 0.05;

    [Fact]
    public void A_weakened_experiment_fails_while_an_unseen_seed_of_the_unchanged_one_passes()
    {
        using var repo = new TestRepository();
        Directory.CreateDirectory(Path.Combine(repo.Experiments, "ci"));
        repo.Write("ci/tiny.yaml", Learnable);

        var update = repo.RunCli(TimeSpan.FromMinutes(20), "regression", "--update-baselines", "--seeds", "1,2,3");
        Assert.True(update.ExitCode == 0, update.Output);
        var baselines = RegressionCheck.Read(Path.Combine(repo.Experiments, "ci", RegressionCheck.BaselinesFile));
        Assert.Equal(["val_map5", "test_map5"], baselines.Select(b => b.Metric));
        Assert.All(baselines, b =>
        {
            Assert.Equal([1, 2, 3], b.Seeds);
            Assert.Equal(3, b.Values.Count);
            Assert.Equal(b.Values.Average(), b.Mean, 12);
            Assert.True(b.StdDev > 0, "three seeds that train differently do not agree to the last bit");
            Assert.Equal(RegressionCheck.DefaultFloor, b.Floor);
        });
        // Floors are stated in the file: this set is small, so its floor is wider than the default.
        string path = Path.Combine(repo.Experiments, "ci", RegressionCheck.BaselinesFile);
        RegressionCheck.Write(path, baselines.Select(b => b with { Floor = TinyFloor }).ToList());
        Assert.All(RegressionCheck.Read(path), b => Assert.Equal(TinyFloor, b.Floor));

        // A seed the baselines never saw: noise, not a regression.
        var unseen = repo.RunCli(TimeSpan.FromMinutes(10), "regression", "--seed", "4");
        Assert.True(unseen.ExitCode == 0, unseen.Output);
        Assert.DoesNotContain("FELL", unseen.Output);

        // The experiment's own seed is one the baselines measured: --exact holds on this machine.
        var exact = repo.RunCli(TimeSpan.FromMinutes(10), "regression", "--exact");
        Assert.True(exact.ExitCode == 0, exact.Output);

        // A learning rate of zero: the model never leaves its random initialisation.
        repo.Write("ci/tiny.yaml", Learnable.Replace("lr: 3.0e-3", "lr: 0.0"));
        var weakened = repo.RunCli(TimeSpan.FromMinutes(10), "regression");
        Assert.True(weakened.ExitCode == 3, weakened.Output);
        Assert.Contains("FELL", weakened.Output);
        Assert.Contains("ci/tiny", weakened.Output);
        Assert.Contains("below mean - max(3 sd, floor)", weakened.Output);
        Assert.DoesNotContain("   at ", weakened.Output);
    }

    static Baseline Measured(string experiment, string metric, double floor, params double[] values) =>
        Baseline.Measured(experiment, metric, floor, values.Select((v, i) => (i + 1, v)).ToList());

    [Fact]
    public void A_metric_fails_below_mean_minus_the_larger_of_three_sd_and_the_floor()
    {
        var noisy = Measured("a", "test_map5", 0.01, 0.50, 0.52, 0.54);     // mean 0.52, sd 0.02: margin 0.06
        var steady = Measured("a", "val_map5", 0.02, 0.40, 0.40, 0.40);     // sd 0: the floor 0.02 is the margin
        var gone = Measured("b", "test_map5", 0.02, 0.3, 0.31, 0.32);
        Assert.Equal(0.02, noisy.StdDev, 12);
        Assert.Equal(0.46, noisy.Threshold, 12);
        Assert.Equal(0.38, steady.Threshold, 12);
        var seeds = new Dictionary<string, int> { ["a"] = 7, ["b"] = 1 };
        IReadOnlyList<RegressionRow> Rows(double test, double val) => RegressionCheck.Compare([noisy, steady, gone],
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["a"] = new Dictionary<string, double> { ["test_map5"] = test, ["val_map5"] = val } }, seeds);

        var within = Rows(0.461, 0.381);
        Assert.False(within[0].Fell);
        Assert.False(within[1].Fell);
        Assert.True(within[2].Fell);          // no metric at all for b
        Assert.Null(within[2].Actual);
        var below = Rows(0.459, 0.379);
        Assert.True(below[0].Fell);
        Assert.True(below[1].Fell);
    }

    [Fact]
    public void Exact_compares_with_the_value_recorded_for_the_run_seed_bit_for_bit()
    {
        var baseline = Measured("a", "test_map5", 0.02, 0.50, 0.52, 0.54);
        var metrics = new Dictionary<string, IReadOnlyDictionary<string, double>> { ["a"] = new Dictionary<string, double> { ["test_map5"] = 0.52 } };
        Assert.False(RegressionCheck.Compare([baseline], metrics, new Dictionary<string, int> { ["a"] = 2 }, exact: true)[0].Fell);
        Assert.True(RegressionCheck.Compare([baseline], metrics, new Dictionary<string, int> { ["a"] = 1 }, exact: true)[0].Fell);
        var nudged = new Dictionary<string, IReadOnlyDictionary<string, double>> { ["a"] = new Dictionary<string, double> { ["test_map5"] = Math.BitIncrement(0.52) } };
        Assert.True(RegressionCheck.Compare([baseline], nudged, new Dictionary<string, int> { ["a"] = 2 }, exact: true)[0].Fell);
        Assert.False(RegressionCheck.Compare([baseline], nudged, new Dictionary<string, int> { ["a"] = 2 })[0].Fell);
    }

    [Fact]
    public void Baselines_round_trip_and_the_old_single_value_form_is_refused_with_what_to_run()
    {
        using var dir = new TempFolder();
        string path = dir["baselines.yaml"];
        var written = new[] { Measured("ci/x", "val_map5", 0.02, 0.1, 0.2, 0.4), Measured("ci/x", "test_map5", 0.03, 0.3, 0.3, 0.31) };
        RegressionCheck.Write(path, written);
        var read = RegressionCheck.Read(path);
        Assert.Equal(written.Select(b => (b.Experiment, b.Metric, b.Mean, b.StdDev, b.Floor)), read.Select(b => (b.Experiment, b.Metric, b.Mean, b.StdDev, b.Floor)));
        Assert.Equal(written[0].Values, read[0].Values);
        Assert.Equal([1, 2, 3], read[1].Seeds);

        File.WriteAllText(path, "ci/x:\n  val_map5:\n    value: 0.5\n    tolerance: 0\n");
        var e = Assert.Throws<UserException>(() => RegressionCheck.Read(path));
        Assert.Contains("old form", e.Message);
        Assert.Contains("--update-baselines", e.Message);
    }
}
