using System.Reflection;
using System.Text.Json;
using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

/// <summary>The spec property a dotted experiment key binds to, found the way SpecBinder binds (snake_case names).</summary>
internal static class SpecProperties
{
    /// <summary>The CLR type of <paramref name="path"/> ("train.augment.rotate_deg"; a list's elements by their item type), nullable unwrapped; null when no property binds it.</summary>
    public static Type? TypeOf(string path)
    {
        Type? type = typeof(ExperimentSpec);
        foreach (var part in path.Split('.'))
        {
            if (type is { IsGenericType: true } && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)) type = type.GetGenericArguments()[0];
            type = type?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == part)?.PropertyType;
        }
        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }
}
