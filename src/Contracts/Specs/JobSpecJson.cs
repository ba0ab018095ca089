using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Plateau.Contracts.Errors;

namespace Plateau.Contracts.Specs;

/// <summary>The one JSON shape of a spec: camelCase fields, enums by their spec names, unknown fields refused.</summary>
public static class JobSpecJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize(JobSpec spec) => JsonSerializer.Serialize(spec, Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
        options.Converters.Add(new TextMapConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Option maps take any scalar (YAML <c>se_reduction: 16</c>) and keep its text.</summary>
    private sealed class TextMapConverter : JsonConverter<IReadOnlyDictionary<string, string>>
    {
        public override IReadOnlyDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("expected a map of names to values");
            }

            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                reader.Read();
                map[key] = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString()!,
                    JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    _ => throw new JsonException($"option {Quote.Value(key)} must be a single value"),
                };
            }

            return map;
        }

        public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            foreach (var (key, text) in value.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, text);
            }

            writer.WriteEndObject();
        }
    }
}
