using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace HappyWhale.Experiments;

/// <summary>Binds a resolved tree to <see cref="ExperimentSpec"/> by snake_case names.</summary>
internal static class SpecBinder
{
    // Disallowing unmapped keys turns a defaults.yaml key without a record property into a loud
    // failure (caught by the tests) instead of a setting that silently does nothing.
    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    public static ExperimentSpec Bind(JsonObject tree) =>
        tree.Deserialize<ExperimentSpec>(Options)
        ?? throw new InvalidOperationException("the resolved experiment tree bound to null");
}
