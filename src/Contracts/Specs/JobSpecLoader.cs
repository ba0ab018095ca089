using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Plateau.Contracts.Specs;

/// <summary>
/// Reads a spec from YAML or JSON. YAML is converted to JSON first so both formats share one set of
/// rules: unknown fields, wrong types and bad enum values are refused with the field's path.
/// Loading does not validate values; call <see cref="JobSpecValidator"/> for that.
/// </summary>
public static partial class JobSpecLoader
{
    /// <summary>Reads a file (.json as JSON, anything else as YAML).</summary>
    public static JobSpec LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw Invalid("spec", $"file '{path}' does not exist");
        }

        var text = File.ReadAllText(path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? FromJson(text) : FromYaml(text);
    }

    /// <summary>Reads YAML or JSON text (JSON when it starts with '{').</summary>
    public static JobSpec Parse(string text) =>
        text.TrimStart().StartsWith('{') ? FromJson(text) : FromYaml(text);

    public static JobSpec FromJson(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw Invalid("spec", "is empty");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Invalid("spec", $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        using (document)
        {
            if (JobSpecShape.FirstProblem(document.RootElement) is { } problem)
            {
                throw new JobSpecInvalidException([problem]);
            }

            try
            {
                return WithoutNulls(document.RootElement).Deserialize<JobSpec>(JobSpecJson.Options)
                    ?? throw Invalid("spec", "must be a map of fields, got null");
            }
            catch (JsonException e)
            {
                // The document fits the contract, so this is not expected; say where, without guessing why.
                throw Invalid(e.Path is null or "$" ? "spec" : "spec" + e.Path.TrimStart('$'), "cannot be read as a job spec");
            }
        }
    }

    /// <summary>
    /// The document with null-valued fields left out: absent and null both mean "the default"
    /// (<c>evaluation: null</c> is the default evaluation, not a missing one).
    /// </summary>
    private static JsonNode? WithoutNulls(JsonElement root)
    {
        var node = JsonNode.Parse(root.GetRawText());
        Strip(node);
        return node;

        static void Strip(JsonNode? node)
        {
            if (node is JsonObject map)
            {
                foreach (var name in map.Where(p => p.Value is null).Select(p => p.Key).ToList())
                {
                    map.Remove(name);
                }
                foreach (var (_, child) in map)
                {
                    Strip(child);
                }
            }
            else if (node is JsonArray list)
            {
                foreach (var item in list)
                {
                    Strip(item);
                }
            }
        }
    }

    public static JobSpec FromYaml(string yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            throw Invalid("spec", "is empty");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw Invalid("spec", $"is not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {e.InnerException?.Message ?? e.Message}");
        }

        if (stream.Documents.Count != 1)
        {
            throw Invalid("spec", $"must hold exactly one YAML document, found {stream.Documents.Count}");
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(stream.Documents[0].RootNode, writer, "spec");
        }

        return FromJson(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteJson(YamlNode node, Utf8JsonWriter writer, string field)
    {
        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                // YamlDotNet already refuses duplicate keys while loading.
                foreach (var (keyNode, valueNode) in map.Children)
                {
                    var key = (keyNode as YamlScalarNode)?.Value
                        ?? throw Invalid(field, $"has a non-text key at line {keyNode.Start.Line}");

                    writer.WritePropertyName(key);
                    WriteJson(valueNode, writer, $"{field}.{key}");
                }

                writer.WriteEndObject();
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in sequence.Children)
                {
                    WriteJson(item, writer, $"{field}[{index++}]");
                }

                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                WriteScalar(scalar, writer);
                break;
            default:
                throw Invalid(field, $"unsupported YAML node at line {node.Start.Line}");
        }
    }

    private static void WriteScalar(YamlScalarNode scalar, Utf8JsonWriter writer)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            writer.WriteStringValue(text);
            return;
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                writer.WriteNullValue();
                return;
            case "true" or "True" or "TRUE":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE":
                writer.WriteBooleanValue(false);
                return;
        }

        if (NumberPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            // JSON wants a digit before the exponent and no leading '+'; YAML allows "1e-4" and "+1".
            writer.WriteRawValue(text.TrimStart('+'), skipInputValidation: false);
            return;
        }

        writer.WriteStringValue(text);
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex NumberPattern();

    private static JobSpecInvalidException Invalid(string field, string message) =>
        new([new SpecError(field, message)]);
}
