using System.Runtime.InteropServices;
using HappyWhale.Imaging;
using HappyWhale.Data;

namespace HappyWhale.Benchmarks;

/// <summary>
/// A competition-sized retrieval problem from a fixed seed: unit-norm float32 gallery embeddings with
/// labels over <see cref="Individuals"/> ids (each id at least once), and queries that are noisy copies
/// of a gallery row (that row's label) or, for <see cref="NewShare"/> of them, unrelated vectors whose
/// label is new_individual (-1). Written as .npy so the numpy reference reads exactly the same input.
/// </summary>
public sealed record KnnData(float[] Queries, int[] QueryLabels, float[] Gallery, int[] GalleryLabels, int Dim)
{
    public const int QueryRows = 28_000, GalleryRows = 51_000, Dimension = 512, Individuals = 15_000, Seed = 20220201;
    public const double NewShare = 0.16, NoiseNorm = 3.0;
    public const float Threshold = 0.25f;

    public static KnnData Generate(int queries = QueryRows, int gallery = GalleryRows, int dim = Dimension, int individuals = Individuals, int seed = Seed)
    {
        var rng = new Random(seed);
        var g = new float[(long)gallery * dim];
        for (int r = 0; r < gallery; r++) Unit(rng, g.AsSpan(r * dim, dim), null, 0);
        var gl = new int[gallery];
        for (int r = 0; r < gallery; r++) gl[r] = r < individuals ? r : rng.Next(individuals);

        var q = new float[(long)queries * dim];
        var ql = new int[queries];
        for (int r = 0; r < queries; r++)
        {
            if (rng.NextDouble() < NewShare) { Unit(rng, q.AsSpan(r * dim, dim), null, 0); ql[r] = -1; }
            else
            {
                int src = rng.Next(gallery);
                Unit(rng, q.AsSpan(r * dim, dim), g.AsSpan(src * dim, dim).ToArray(), NoiseNorm / Math.Sqrt(dim));
                ql[r] = gl[src];
            }
        }
        return new KnnData(q, ql, g, gl, dim);
    }

    /// <summary>Fills <paramref name="row"/> with normalise(base + sigma * N(0, 1)), or normalise(N(0, 1)) without a base.</summary>
    static void Unit(Random rng, Span<float> row, float[]? baseRow, double sigma)
    {
        double norm = 0;
        for (int i = 0; i < row.Length; i++)
        {
            double n = Gaussian(rng);
            double v = baseRow is null ? n : baseRow[i] + sigma * n;
            row[i] = (float)v;
            norm += v * v;
        }
        float inv = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < row.Length; i++) row[i] *= inv;
    }

    static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public string[] GalleryIds() => GalleryLabels.Select(Id).ToArray();
    public string[] QueryIds() => QueryLabels.Select(Id).ToArray();
    static string Id(int label) => label < 0 ? HappyWhale.Data.NewIndividual.Id : "id" + label;

    public void WriteNpy(string folder)
    {
        Directory.CreateDirectory(folder);
        Write(Path.Combine(folder, "queries.npy"), "<f4", [QueryLabels.Length, Dim], MemoryMarshal.AsBytes(Queries.AsSpan()));
        Write(Path.Combine(folder, "gallery.npy"), "<f4", [GalleryLabels.Length, Dim], MemoryMarshal.AsBytes(Gallery.AsSpan()));
        Write(Path.Combine(folder, "query_labels.npy"), "<i4", [QueryLabels.Length], MemoryMarshal.AsBytes(QueryLabels.AsSpan()));
        Write(Path.Combine(folder, "gallery_labels.npy"), "<i4", [GalleryLabels.Length], MemoryMarshal.AsBytes(GalleryLabels.AsSpan()));
    }

    static void Write(string path, string descr, long[] shape, ReadOnlySpan<byte> data)
    {
        string tmp = path + ".tmp";
        using (var f = File.Create(tmp))
        {
            f.Write(NpyHeader.Encode(descr, shape));
            f.Write(data);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
