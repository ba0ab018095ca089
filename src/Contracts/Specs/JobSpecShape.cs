using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Plateau.Contracts.Specs;

/// <summary>
/// Checks a spec document against the JSON contract of <see cref="JobSpec"/> (the property names and
/// types that <see cref="JobSpecJson.Options"/> resolves) before it is deserialised, so an unknown field
/// or a value of the wrong kind is reported with its field from the contract itself.
/// </summary>
internal static class JobSpecShape
{
    /// <summary>The first problem in document order, or null when the document fits the contract.</summary>
    public static SpecError? FirstProblem(JsonElement root) => Check(root, typeof(JobSpec), "spec");

    private static SpecError? Check(JsonElement value, Type type, string field)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null; // absent and null mean "the default"; what must be given is the validator's call
        }

        var core = Nullable.GetUnderlyingType(type) ?? type;
        if (core == typeof(string))
        {
            return value.ValueKind == JsonValueKind.String ? null : Expected(field, "text");
        }

        if (core == typeof(double) || core == typeof(float))
        {
            return value.ValueKind == JsonValueKind.Number ? null : Expected(field, "a number");
        }

        if (core == typeof(int) || core == typeof(long))
        {
            var fits = value.ValueKind == JsonValueKind.Number &&
                       (core == typeof(int) ? value.TryGetInt32(out _) : value.TryGetInt64(out _));
            return fits ? null : Expected(field, "a whole number");
        }

        if (core == typeof(bool))
        {
            return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : Expected(field, "true or false");
        }

        if (core.IsEnum)
        {
            var names = SpecEnumNames.All(core);
            return value.ValueKind == JsonValueKind.String && names.Contains(value.GetString()!, StringComparer.Ordinal)
                ? null
                : Expected(field, "one of " + string.Join(", ", names));
        }

        if (core == typeof(IReadOnlyDictionary<string, string>))
        {
            return CheckTextMap(value, field);
        }

        if (ListElement(core) is { } element)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                return Expected(field, "a list");
            }

            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (Check(item, element, $"{field}[{index++}]") is { } problem)
                {
                    return problem;
                }
            }

            return null;
        }

        return CheckObject(value, core, field);
    }

    private static SpecError? CheckObject(JsonElement value, Type type, string field)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return Expected(field, "a map of fields");
        }

        var properties = JobSpecJson.Options.GetTypeInfo(type).Properties;
        foreach (var property in value.EnumerateObject())
        {
            var info = FindProperty(properties, property.Name);
            if (info is null)
            {
                return new SpecError($"{field}.{property.Name}", $"unknown field '{property.Name}'");
            }

            if (Check(property.Value, info.PropertyType, $"{field}.{property.Name}") is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static SpecError? CheckTextMap(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return Expected(field, "a map of names to values");
        }

        foreach (var option in value.EnumerateObject())
        {
            if (option.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null)
            {
                return new SpecError($"{field}.{option.Name}", "must be a single value (text, number, true or false)");
            }
        }

        return null;
    }

    private static JsonPropertyInfo? FindProperty(IList<JsonPropertyInfo> properties, string name)
    {
        foreach (var property in properties)
        {
            if (string.Equals(property.Name, name, StringComparison.Ordinal))
            {
                return property;
            }
        }

        return null;
    }

    private static Type? ListElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0] : null;

    private static SpecError Expected(string field, string what) => new(field, $"expected {what}");
}
