using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Imaging;

/// <summary>Images already in a (N,3,H,W) tensor of [0,1] values: for benchmarks, tests and small in-process sets.</summary>
public sealed class InMemoryImages(Tensor images) : IImageBatches
{
    public int Count => (int)images.shape[0];
    public int ImageSize => (int)images.shape[3];
    public Tensor ReadBatch(IReadOnlyList<int> rows) => images.index_select(0, tensor(rows.Select(r => (long)r).ToArray()));

    /// <summary>Uniform random images from a fixed seed.</summary>
    public static InMemoryImages Random(int count, int size, ulong seed = 1234) =>
        new(rand(new long[] { count, 3, size, size }, generator: new Generator(seed, CPU)));
}
