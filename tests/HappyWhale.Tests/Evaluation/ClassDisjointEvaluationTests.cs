using System.Text.Json;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;
using HappyWhale.Tests.Data;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Training;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Evaluation;

/// <summary>data.holdout_species and evaluate.episodes: species held out of training and gallery, N-way K-shot episodes on them.</summary>
public class ClassDisjointEvaluationTests
{
    static readonly DataSpec Base = new() { MinImagesPerId = 1, Folds = 3, Fold = 0, HoldoutIndividuals = 0.2, Seed = 3, CleanSpecies = true };

    // Three species (one written with a known typo), 4 individuals each, 5 images each.
    static List<PreparedRow> Rows()
    {
        var rows = new List<PreparedRow>();
        foreach (var species in new[] { "beluga", "humpback_whale", "kiler_whale" })
            for (int id = 0; id < 4; id++)
                for (int i = 0; i < 5; i++)
                    rows.Add(new PreparedRow(rows.Count, 0, rows.Count, $"{species}_{id}_{i}.jpg", species, $"{species}-{id}", "train"));
        return rows;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Holdout_species_never_trains_nor_validates_whatever_the_fold(bool validationFold)
    {
        var rows = Rows();
        var data = Base with { HoldoutSpecies = ["killer_whale"], ValidationFold = validationFold };   // the cleaned name of kiler_whale
        for (int fold = 0; fold < 3; fold++)
        {
            var split = RowSplit.Build(rows, data with { Fold = fold });
            Assert.DoesNotContain(split.TrainRows, r => rows[r].Species == "kiler_whale");
            Assert.DoesNotContain(split.ValidationRows, r => rows[r].Species == "kiler_whale");
            Assert.DoesNotContain(split.Classes, c => c.StartsWith("kiler_whale", StringComparison.Ordinal));
            Assert.Contains(split.TrainRows, r => rows[r].Species == "beluga");
            if (!validationFold) Assert.Equal(40, split.TrainRows.Count);   // every image of the two other species
        }
    }

    [Fact]
    public void Holdout_species_that_match_nothing_stop_with_their_names()
    {
        var e = Assert.Throws<UserException>(() => RowSplit.Build(Rows(), Base with { HoldoutSpecies = ["orca", "beluga_whale"] }));
        Assert.Contains("orca", e.Message);
        Assert.DoesNotContain("beluga_whale,", e.Message.Split(';')[0]);
        Assert.Contains("species present", e.Message);
        var all = Assert.Throws<UserException>(() => RowSplit.Build(Rows(), Base with { HoldoutSpecies = ["beluga_whale", "humpback_whale", "killer_whale"] }));
        Assert.Contains("nothing is left to train on", all.Message);
    }

    static List<EpisodeImage> Pool()
    {
        // Species a: 6 individuals with 4 images; species b: 5 individuals, one of them with a single image.
        var pool = new List<EpisodeImage>();
        for (int id = 0; id < 6; id++) for (int i = 0; i < 4; i++) pool.Add(new(pool.Count, "a", $"a{id}"));
        for (int id = 0; id < 5; id++) for (int i = 0; i < (id == 0 ? 1 : 3); i++) pool.Add(new(pool.Count, "b", $"b{id}"));
        return pool;
    }

    [Fact]
    public void Episode_sampler_gives_the_same_episodes_for_the_same_seed()
    {
        var one = EpisodeSampler.Sample(Pool(), 4, 2, 30, seed: 5);
        var two = EpisodeSampler.Sample(Pool(), 4, 2, 30, seed: 5);
        Assert.Equal(JsonSerializer.Serialize(one), JsonSerializer.Serialize(two));
        Assert.NotEqual(JsonSerializer.Serialize(one), JsonSerializer.Serialize(EpisodeSampler.Sample(Pool(), 4, 2, 30, seed: 6)));
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(3, 3)]
    public void Episode_sampler_respects_ways_and_shots_within_one_species(int ways, int shots)
    {
        var pool = Pool();
        var episodes = EpisodeSampler.Sample(pool, ways, shots, 20, seed: 1);
        Assert.Equal(20, episodes.Count);
        foreach (var e in episodes)
        {
            Assert.Equal(ways * shots, e.Support.Count);
            Assert.Equal(ways, e.Queries.Count);
            Assert.Equal(Enumerable.Range(0, ways), e.QueryClass);
            Assert.All(Enumerable.Range(0, ways), c => Assert.Equal(shots, e.SupportClass.Count(s => s == c)));
            var images = e.Support.Concat(e.Queries).ToList();
            Assert.Equal(images.Count, images.Distinct().Count());                      // no image twice
            Assert.All(images, i => Assert.Equal(e.Species, pool[i].Species));          // all of the episode's species
            // A class is one individual: its supports and its query share it, and no two classes do.
            var individualOf = Enumerable.Range(0, ways).Select(c => pool[e.Queries[c]].Individual).ToList();
            Assert.Equal(ways, individualOf.Distinct().Count());
            for (int k = 0; k < e.Support.Count; k++) Assert.Equal(individualOf[e.SupportClass[k]], pool[e.Support[k]].Individual);
        }
        // Species take turns; b has only 4 individuals with 2+ images (and 4 with 3+, 0 with 4+).
        var eligible = EpisodeSampler.Eligible(pool, ways, shots).Select(s => s.Species).ToList();
        Assert.Equal(eligible, episodes.Take(eligible.Count).Select(e => e.Species));
        if (shots == 3) Assert.Equal(["a"], eligible);
    }

    [Fact]
    public void Episode_sampler_says_which_species_fall_short()
    {
        var e = Assert.Throws<UserException>(() => EpisodeSampler.Sample(Pool(), 7, 1, 10, seed: 0));
        Assert.Contains("7-way 1-shot", e.Message);
        Assert.Contains("a: 6", e.Message);
    }

    [Fact]
    public void Episode_scorer_takes_the_nearest_support_by_cosine()
    {
        // Supports at 0 and 90 degrees; queries at 10 degrees (class 0, right) and at 80 degrees scaled (class 0, wrong).
        var embeddings = tensor(new float[] { 1, 0, 0, 1, 0.98f, 0.17f, 0.5f, 2.8f }, new long[] { 4, 2 });
        var episode = new Episode("s", [0, 1], [0, 1], [2, 3], [0, 0]);
        var errors = EpisodeScorer.ErrorPerEpisode(embeddings, [episode, episode with { QueryClass = [0, 1] }]);
        Assert.Equal([50.0, 0.0], errors);
        var scored = EpisodeScorer.Summarise([episode, episode], [50.0, 0.0]);
        Assert.Equal(25.0, scored.Mean, 9);
        Assert.Equal(25.0, scored.StandardError, 9);   // sd 35.36 / sqrt 2
        Assert.Equal(2, scored.BySpecies["s"].Episodes);
    }

    [Fact]
    public void New_keys_stay_out_of_stage_keys_while_off_and_enter_exactly_the_stages_that_read_them()
    {
        using var repo = new TestRepository();
        repo.Write("plain.yaml", "description: x\n");
        ResolvedExperiment Load(params string[] sets) => ExperimentLoader.Load(repo.Experiments, "plain", sets);
        string Train(ResolvedExperiment e) => TrainStage.Request(e, 0, 64, "p", null).Key;
        string Evaluate(ResolvedExperiment e) => EvaluateStage.Request(e, [new EvaluationModel(EvaluateStage.Self, e.Spec.Model, "t", "")], "p").Key;
        string Prepare(ResolvedExperiment e) => PrepareStage.Request(e, 64, "source").Key;

        var plain = Load();
        var document = TrainStage.Request(plain, 0, 64, "p", null).KeyDocument().ToJsonString();
        foreach (var key in new[] { "holdout_species", "validation_fold", "margin_warmup", "\"ema\"", "shear_deg", "\"fill\"", "input_norm" })
            Assert.DoesNotContain(key, document);
        Assert.DoesNotContain("episodes", EvaluateStage.Request(plain, [new EvaluationModel(EvaluateStage.Self, plain.Spec.Model, "t", "")], "p").KeyDocument().ToJsonString());
        // Off values written out give the same keys as leaving them out.
        var explicitOff = Load("data.holdout_species=[]", "model.input_norm=imagenet", "train.ema=0", "train.augment.shear_deg=0", "evaluate.episodes.episodes=0", "evaluate.episodes.ways=5",
            "evaluate.tta_shift=0", "evaluate.feature=embedding");
        Assert.Equal(Train(plain), Train(explicitOff));
        Assert.Equal(Evaluate(plain), Evaluate(explicitOff));

        Assert.Equal(Prepare(plain), Prepare(Load("prepare.resample=bicubic")));
        Assert.NotEqual(Prepare(plain), Prepare(Load("prepare.resample=bilinear")));

        var holdout = Load("data.holdout_species=[a]");
        Assert.Equal(Prepare(plain), Prepare(holdout));
        Assert.NotEqual(Train(plain), Train(holdout));
        Assert.NotEqual(Evaluate(plain), Evaluate(holdout));
        foreach (var set in new[] { "evaluate.tta_shift=0.08", "evaluate.feature=embedding_and_pooled" })
        {
            Assert.Equal(Train(plain), Train(Load(set)));
            Assert.NotEqual(Evaluate(plain), Evaluate(Load(set)));
        }
        var episodes = Load("evaluate.episodes.episodes=10");
        Assert.Equal(Train(plain), Train(episodes));
        Assert.NotEqual(Evaluate(plain), Evaluate(episodes));
        Assert.NotEqual(Evaluate(episodes), Evaluate(Load("evaluate.episodes.episodes=10", "evaluate.episodes.seed=1")));
        foreach (var set in new[] { "train.ema=0.99", "train.augment.shear_deg=5", "train.augment.fill=white", "model.head.margin_warmup=0.2", "data.validation_fold=false", "model.input_norm=inverted" })
            Assert.NotEqual(Train(plain), Train(Load(set)));
    }

    [Fact(Timeout = 300_000)]
    public async Task Held_out_species_are_in_no_gallery_and_their_episodes_are_scored()
    {
        await Task.Run(() =>
        {
            using var repo = new TestRepository();
            string data = Path.Combine(repo.Root, "data");
            int seed = 0;
            foreach (var species in new[] { "a", "b", "c" })
                for (int id = 0; id < 4; id++)
                    for (int i = 0; i < 4; i++)
                    {
                        string path = Path.Combine(data, species, $"{species}{id}", $"{i}.png");
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        File.WriteAllBytes(path, FolderSourceTests.Png(seed++, 16));
                    }
            repo.Write("held.yaml", """
                data:
                  source: folder
                  root: data
                  query_share: 0.25
                  new_individual_share: 0.0
                  holdout_species: [c]
                prepare:
                  image_size: 16
                model:
                  backbone: resnet10_narrow
                  embedding_dim: 8
                train:
                  phases:
                    - epochs: 1
                      lr: 1.0e-3
                  batch_size: 8
                evaluate:
                  episodes:
                    episodes: 6
                    ways: 3
                    shots: 2
                """);
            var experiment = ExperimentLoader.Load(repo.Experiments, "held");
            var pipeline = new ExperimentPipeline(experiment, new PipelineOptions(repo.Root));
            var result = pipeline.Run(StageNames.Evaluate);

            var classes = TrainStage.ReadClasses(result.Last(StageNames.Train)!.Folder);
            Assert.NotEmpty(classes);
            Assert.DoesNotContain(classes, c => c.StartsWith("c/", StringComparison.Ordinal));
            // The submission ranks gallery individuals: none of c's, whose queries are answered new_individual.
            var evaluated = result.Last(StageNames.Evaluate)!.Folder;
            var answers = File.ReadAllLines(Path.Combine(evaluated, EvaluateStage.SubmissionFile)).Skip(1)
                .SelectMany(line => line.Split(',')[1].Split(' ')).ToList();
            Assert.DoesNotContain(answers, a => a.StartsWith("c/", StringComparison.Ordinal));
            Assert.Contains(answers, a => a.StartsWith("a/", StringComparison.Ordinal));
            var truth = File.ReadAllLines(Path.Combine(evaluated, EvaluateStage.TestTruthFile)).Skip(1).Select(l => l.Split(',')).ToList();
            Assert.All(truth.Where(t => t[0].StartsWith("c/", StringComparison.Ordinal)), t => Assert.Equal(NewIndividual.Id, t[1]));

            Assert.Equal(6, result.Metrics["episode_count"]);
            Assert.InRange(result.Metrics["episode_error"], 0, 100);
            Assert.True(result.Metrics.ContainsKey("episode_error_se"));
            Assert.Equal(result.Metrics["episode_error"], result.Metrics["episode_error_by_species/c"], 9);
            Assert.Equal(7, File.ReadAllLines(Path.Combine(evaluated, EpisodeEvaluation.EpisodesFile)).Length);
            // Every image of c (training images and queries alike) is in the pool the episodes draw from.
            using var images = PreparedSet.Open(result.Last(StageNames.Prepare)!.Folder);
            var source = new FolderSource([data], 0.25, 0.0, experiment.Spec.Data.Seed);
            var pool = EpisodeEvaluation.Pool(experiment.Spec, images.Rows, source.ReadTestLabels());
            Assert.Equal(16, pool.Count);
            Assert.All(pool, p => Assert.Equal("c", p.Species));
        });
    }
}
