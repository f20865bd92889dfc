using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>One metric point as runs/log-batch takes it.</summary>
public readonly record struct MetricRecord(string Key, double Value, long TimestampMs, long Step);

/// <summary>The body of one runs/log-batch call (without run_id).</summary>
public sealed record LogBatch(IReadOnlyList<MetricRecord> Metrics, IReadOnlyList<KeyValuePair<string, string>> Params, IReadOnlyList<KeyValuePair<string, string>> Tags)
{
    public int Count => Metrics.Count + Params.Count + Tags.Count;

    public JsonObject ToJson()
    {
        var metrics = new JsonArray();
        foreach (var m in Metrics)
            metrics.Add(new JsonObject { ["key"] = m.Key, ["value"] = MetricValue(m.Value), ["timestamp"] = m.TimestampMs, ["step"] = m.Step });
        return new JsonObject { ["metrics"] = metrics, ["params"] = Pairs(Params), ["tags"] = Pairs(Tags) };
    }

    /// <summary>Protobuf's JSON mapping writes NaN and infinities as the strings "NaN", "Infinity", "-Infinity".</summary>
    public static JsonNode MetricValue(double v) =>
        double.IsNaN(v) ? JsonValue.Create("NaN") : double.IsPositiveInfinity(v) ? JsonValue.Create("Infinity")
        : double.IsNegativeInfinity(v) ? JsonValue.Create("-Infinity") : JsonValue.Create(v);

    public static double ParseValue(JsonNode node) => node.GetValueKind() == System.Text.Json.JsonValueKind.String
        ? (string)node! switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => double.Parse(s!, System.Globalization.CultureInfo.InvariantCulture) }
        : (double)node;

    public static JsonArray Pairs(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var array = new JsonArray();
        foreach (var (k, v) in pairs) array.Add(new JsonObject { ["key"] = k, ["value"] = v });
        return array;
    }
}

/// <summary>
/// Splits records into runs/log-batch calls within MLflow's limits (mlflow/utils/validation.py:
/// MAX_METRICS_PER_BATCH = 1000, MAX_PARAMS_TAGS_PER_BATCH = 100, MAX_ENTITIES_PER_BATCH = 1000),
/// filling each call as far as the limits allow, params and tags first.
/// </summary>
public static class LogBatchChunker
{
    public const int MaxMetrics = 1000;
    public const int MaxParams = 100;
    public const int MaxTags = 100;
    public const int MaxEntities = 1000;

    public static List<LogBatch> Chunk(IReadOnlyList<MetricRecord> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        var batches = new List<LogBatch>();
        int m = 0, p = 0, t = 0;
        while (m < metrics.Count || p < parameters.Count || t < tags.Count)
        {
            int np = Math.Min(MaxParams, parameters.Count - p);
            int nt = Math.Min(MaxTags, tags.Count - t);
            int nm = Math.Min(Math.Min(MaxMetrics, MaxEntities - np - nt), metrics.Count - m);
            batches.Add(new LogBatch(Slice(metrics, m, nm), Slice(parameters, p, np), Slice(tags, t, nt)));
            m += nm; p += np; t += nt;
        }
        return batches;
    }

    private static List<T> Slice<T>(IReadOnlyList<T> list, int start, int count)
    {
        var result = new List<T>(count);
        for (int i = 0; i < count; i++) result.Add(list[start + i]);
        return result;
    }
}
