using System.Diagnostics;
using System.Text.Json;
using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Pipeline;
using HappyWhale.Tests.EndToEnd;
using TorchSharp;

namespace HappyWhale.Tests.Training;

/// <summary>A real training process killed with SIGKILL mid-run resumes from its last complete epoch.</summary>
public class ResumeAfterKillTests
{

    static readonly string[] Sets = ["train.phases.0.epochs=5", "train.validate_each_epoch=false", "synth.individuals=12"];

    [Fact]
    public void Killed_training_resumes_from_the_last_epoch_and_ends_with_the_same_weights()
    {
        using var reference = new TestRepository();
        using var killed = new TestRepository();
        reference.Write("tiny.yaml", TinyExperiment.Yaml);
        killed.Write("tiny.yaml", TinyExperiment.Yaml);

        var full = reference.RunCli(["train", "--exp", "tiny", .. Sets.SelectMany(s => new[] { "--set", s })]);
        Assert.True(full.ExitCode == 0, full.Output);

        // Start the same training and kill it (SIGKILL) once at least one epoch is checkpointed.
        using (var process = killed.StartCli(["train", "--exp", "tiny", .. Sets.SelectMany(s => new[] { "--set", s })]))
        {
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (EpochsCheckpointed(killed) < 2 && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.False(process.HasExited, "training finished before it could be killed; make the test run longer");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        int done = EpochsCheckpointed(killed);
        Assert.InRange(done, 2, 4);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(killed.Cache, "train")), d => !Path.GetFileName(d).StartsWith('.'));

        var resumed = killed.RunCli(["train", "--exp", "tiny", .. Sets.SelectMany(s => new[] { "--set", s })]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains($"resuming after epoch {done}/5", resumed.Output);

        // Per-epoch seeding makes the resumed run replay exactly the remaining epochs: the weights
        // are bitwise equal on this CPU backend (same thread count, deterministic kernels).
        var experiment = ExperimentLoader.Load(reference.Experiments, "tiny", Sets);
        Assert.Equal(0.0, MaxWeightDifference(experiment, TrainEntry(reference), TrainEntry(killed)));
        Assert.Empty(Directory.GetDirectories(Path.Combine(killed.Cache, "train"), ".work-*"));
    }

    internal static int EpochsCheckpointed(TestRepository repo)
    {
        string train = Path.Combine(repo.Cache, "train");
        if (!Directory.Exists(train)) return 0;
        foreach (var work in Directory.GetDirectories(train, ".work-*"))
            foreach (var name in new[] { "checkpoint", "checkpoint.outgoing" })
            {
                string state = Path.Combine(work, name, "state.json");
                try
                {
                    if (File.Exists(state)) return JsonDocument.Parse(File.ReadAllText(state)).RootElement.GetProperty("EpochsDone").GetInt32();
                }
                catch (Exception e) when (e is IOException or JsonException) { }
            }
        return 0;
    }

    static string TrainEntry(TestRepository repo) =>
        Directory.GetDirectories(Path.Combine(repo.Cache, "train")).Single(d => !Path.GetFileName(d).StartsWith('.'));

    static double MaxWeightDifference(ResolvedExperiment experiment, string a, string b)
    {
        int classes = TrainStage.ReadClasses(a).Count;
        Assert.Equal(TrainStage.ReadClasses(a), TrainStage.ReadClasses(b));
        using var ma = ModelFactory.Create(experiment.Spec.Model, classes);
        using var mb = ModelFactory.Create(experiment.Spec.Model, classes);
        ma.load(Path.Combine(a, TrainStage.ModelFile));
        mb.load(Path.Combine(b, TrainStage.ModelFile));
        var sb = mb.state_dict();
        double max = 0;
        foreach (var (name, t) in ma.state_dict())
        {
            using var diff = (t.to_type(torch.ScalarType.Float64) - sb[name].to_type(torch.ScalarType.Float64)).abs().max();
            max = Math.Max(max, diff.item<double>());
        }
        return max;
    }
}
