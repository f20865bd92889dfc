using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>Probe: episode error of a trained experiment's model with other features at evaluation time.</summary>
public static class OneshotFeatures
{
    public static void Run(string experimentName, IReadOnlyList<string> sets)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), experimentName, sets);
        var spec = experiment.Spec;
        var pipeline = new ExperimentPipeline(experiment, new PipelineOptions(RepoPaths.Root));
        pipeline.Run(StageNames.Train);
        var prepared = pipeline.Runs.Last(r => r.Stage == StageNames.Prepare).Folder;
        var trained = pipeline.Runs.Last(r => r.Stage == StageNames.Train).Folder;
        using var images = PreparedSet.Open(prepared);
        var classes = TrainStage.ReadClasses(trained);
        using var model = ModelFactory.Create(spec.Model, classes.Count);
        model.LoadCheckpoint(Path.Combine(trained, TrainStage.ModelFile));
        model.eval();

        var pool = EpisodeEvaluation.Pool(spec, images.Rows, null);
        var episodes = EpisodeSampler.Sample(pool.Select((p, i) => new EpisodeImage(i, p.Species, p.Individual)).ToList(),
            spec.Evaluate.Episodes.Ways, spec.Evaluate.Episodes.Shots, spec.Evaluate.Episodes.Episodes, spec.Evaluate.Episodes.Seed);
        var held = pool.Select(p => p.Row).ToHashSet();
        var trainRows = images.Rows.Where(r => r.Subset == "train" && !held.Contains(r.Row)).Select(r => r.Row).ToList();
        Console.WriteLine($"{experimentName} {string.Join(' ', sets)}: pool {pool.Count}, train {trainRows.Count}, episodes {episodes.Count}");

        (Tensor Emb, Tensor Pooled) Features(IReadOnlyList<int> rows, Func<Tensor, Tensor>? transform = null)
        {
            var e = new List<Tensor>(); var p = new List<Tensor>();
            using (no_grad())
                for (int s = 0; s < rows.Count; s += 256)
                {
                    using var scope = NewDisposeScope();
                    var x = model.NormalizeInput(images.ReadBatch(rows.Skip(s).Take(256).ToArray()));
                    if (transform is not null) x = transform(x);
                    var pooled = model.ForwardPooled(x);
                    p.Add(pooled.MoveToOuterDisposeScope());
                    // the neck alone: forward = neck(ForwardPooled)
                    e.Add(model.forward(x).MoveToOuterDisposeScope());
                }
            return (cat(e, 0), cat(p, 0));
        }

        var (poolEmb, poolPooled) = Features(pool.Select(p => p.Row).ToList());
        var (trainEmb, trainPooled) = Features(trainRows);
        double Err(Tensor f) => EpisodeScorer.Summarise(episodes, EpisodeScorer.ErrorPerEpisode(nn.functional.normalize(f, p: 2, dim: 1), episodes)).Mean;
        Tensor N(Tensor f) => nn.functional.normalize(f, p: 2, dim: 1);
        Console.WriteLine($"embedding                      {Err(poolEmb):F2}");
        Console.WriteLine($"embedding - train mean         {Err(poolEmb - trainEmb.mean([0])):F2}");
        Console.WriteLine($"norm emb - train mean(norm)    {Err(N(poolEmb) - N(trainEmb).mean([0])):F2}");
        Console.WriteLine($"embedding - pool mean          {Err(poolEmb - poolEmb.mean([0])):F2}");
        Console.WriteLine($"pooled                         {Err(poolPooled):F2}");
        Console.WriteLine($"pooled - train mean            {Err(poolPooled - trainPooled.mean([0])):F2}");
        Console.WriteLine($"pooled - pool mean             {Err(poolPooled - poolPooled.mean([0])):F2}");
        Console.WriteLine($"concat(norm emb, norm pooled)  {Err(cat([N(poolEmb), N(poolPooled)], 1)):F2}");
        Console.WriteLine($"concat centred (train)         {Err(cat([N(poolEmb - trainEmb.mean([0])), N(poolPooled - trainPooled.mean([0]))], 1)):F2}");
        // Shift TTA: mean of normalised features over small translations.
        foreach (var d in new[] { 4L, 5L, 6L })
        {
            var e5 = new List<Tensor> { N(poolEmb) }; var c5 = new List<Tensor> { cat([N(poolEmb), N(poolPooled)], 1) };
            var e9 = new List<Tensor> { N(poolEmb) };
            foreach (var (dy, dx) in new[] { (d, 0L), (-d, 0L), (0L, d), (0L, -d), (d, d), (-d, -d), (d, -d), (-d, d) })
            {
                var (e, p) = Features(pool.Select(p => p.Row).ToList(), x => x.roll([dy, dx], [2, 3]));
                if (dy == 0 || dx == 0) { e5.Add(N(e)); c5.Add(cat([N(e), N(p)], 1)); }
                e9.Add(N(e));
            }
            Console.WriteLine($"shift {d}: embedding 5-TTA {Err(stack(e5).mean([0])):F2}  9-TTA {Err(stack(e9).mean([0])):F2}  concat 5-TTA {Err(stack(c5).mean([0])):F2}");
        }
    }
}
