using System.Reflection;
using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>The names spec enums are written with in YAML/JSON (their <see cref="JsonStringEnumMemberNameAttribute"/>), for messages and command-line options.</summary>
public static class SpecEnumNames
{
    /// <summary>The spec name of <paramref name="value"/> ("bf16" for <see cref="GradientCompression.BFloat16"/>).</summary>
    public static string Name<T>(T value) where T : struct, Enum =>
        typeof(T).GetField(value.ToString())?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? value.ToString();

    /// <summary>Every spec name of <paramref name="enumType"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All(Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        return [.. enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name)];
    }
}
