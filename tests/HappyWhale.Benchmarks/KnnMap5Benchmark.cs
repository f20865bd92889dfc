using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using HappyWhale.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// The evaluate stage's retrieval at competition size: 28,000 queries against 51,000 gallery embeddings
/// of dimension 512, k = 100 neighbours by cosine similarity (<see cref="CosineKnn"/>), aggregated to
/// individuals with new_individual inserted below a threshold (<see cref="IndividualRanker"/>), scored
/// with MAP@5. knn_numpy.py does the same on the same data (artifacts/bench/knn/*.npy).
/// </summary>
[Config(typeof(BenchConfig))]
public class KnnMap5Benchmark
{
    public const int K = 100;
    Tensor _queries = null!, _gallery = null!;
    string[] _galleryIds = null!, _queryIds = null!;
    double _map5;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Math.Min(Environment.ProcessorCount, 2));
        var data = KnnData.Generate();
        data.WriteNpy(RepoPaths.Bench("knn"));
        _queries = torch.tensor(data.Queries, [data.QueryLabels.Length, data.Dim]);
        _gallery = torch.tensor(data.Gallery, [data.GalleryLabels.Length, data.Dim]);
        _galleryIds = data.GalleryIds();
        _queryIds = data.QueryIds();
    }

    [Benchmark]
    public double KnnAggregateMap5()
    {
        var (similarities, indices) = CosineKnn.Search(_queries, _gallery, K);
        var predictions = new IndividualRanker(_galleryIds).RankAll(similarities, indices, K, KnnData.Threshold);
        _map5 = MapAt5.Score(predictions.Select(p => p.Ids).ToList(), _queryIds);
        return _map5;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        long peak = PeakMemory.ReadPeakBytes();
        PeakMemory.Recorded[nameof(KnnAggregateMap5)] = peak;
        var result = new Dictionary<string, object>
        {
            ["map5"] = _map5,
            ["peak_rss_bytes"] = peak,
            ["torch_threads"] = torch.get_num_threads(),
        };
        File.WriteAllText(RepoPaths.Bench("knn", "ours.json"), JsonSerializer.Serialize(result));
        Console.WriteLine($"// KnnAggregateMap5: MAP@5 = {_map5.ToString("F6", CultureInfo.InvariantCulture)}, peak working set {PeakMemory.Format(peak)}");
        _queries.Dispose();
        _gallery.Dispose();
    }
}
