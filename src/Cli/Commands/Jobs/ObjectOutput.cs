using System.Text.Json;
using Google.Protobuf;
using YamlDotNet.RepresentationModel;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// <c>-o json|yaml</c>: a proto message as proto JSON (camelCase, enums by name, defaults included) or as the
/// same tree in YAML, so scripts get every field under one name whichever they parse.
/// </summary>
public static class ObjectOutput
{
    private static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    private static readonly JsonFormatter OneLine = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>Writes <paramref name="message"/> as <paramref name="format"/>; table output is the caller's.</summary>
    public static void Write(IMessage message, OutputFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case OutputFormat.Json:
                output.WriteLine(Indented.Format(message));
                break;
            case OutputFormat.Yaml:
                output.Write(ToYaml(OneLine.Format(message)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "table output is written by each command");
        }
    }

    /// <summary>One stream update: a single JSON line, or a YAML document starting with "---".</summary>
    public static void WriteStreamed(IMessage message, OutputFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        if (format == OutputFormat.Json)
        {
            output.WriteLine(OneLine.Format(message));
        }
        else
        {
            output.WriteLine("---");
            output.Write(ToYaml(OneLine.Format(message)));
        }

        output.Flush();
    }

    /// <summary>JSON text as YAML (strings quoted where YAML would read them as something else).</summary>
    public static string ToYaml(string json)
    {
        using var document = JsonDocument.Parse(json);
        var stream = new YamlStream(new YamlDocument(Node(document.RootElement)));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        // YamlStream ends every document with "...", which only matters between documents.
        var text = writer.ToString().ReplaceLineEndings("\n");
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlNode Node(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new YamlMappingNode(element.EnumerateObject().Select(p => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(p.Name), Node(p.Value)))),
        JsonValueKind.Array => new YamlSequenceNode(element.EnumerateArray().Select(Node)),
        JsonValueKind.String => new YamlScalarNode(element.GetString()) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted },
        JsonValueKind.Null => new YamlScalarNode("null"),
        _ => new YamlScalarNode(element.GetRawText()),
    };
}
