using System.Collections.Concurrent;
using TorchSharp;

namespace HappyWhale;

/// <summary>Numbers handed to libtorch as <see cref="Scalar"/>s that live as long as the process.</summary>
/// <remarks>
/// TorchSharp 0.107 turns a number given where a Scalar is expected (<c>x.clamp(0, 1)</c>, <c>x * 2.0</c>)
/// into a new Scalar that only its finalizer frees, and does not keep it alive through the native call:
/// a collection during that call can free it under libtorch. Reading shards at ~3,000 img/s died that
/// way once ("toDouble ... Expected false to be true"). Code that runs every step takes its Scalars from
/// here. The values are constants and configuration, so the cache stays small.
/// </remarks>
public static class Scalars
{
    static readonly ConcurrentDictionary<double, Scalar> Reals = new();
    static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    public static Scalar Of(double value) => Reals.GetOrAdd(value, v => v.ToScalar());

    public static Scalar Of(long value) => Integers.GetOrAdd(value, v => v.ToScalar());
}
