using System.Text.Json.Nodes;
using Json.Schema;

namespace Plateau.Deploy.Tests;

/// <summary>
/// The TrainingJob CRD's own openAPIV3Schema, read from k8s/base/trainingjob-crd.yaml and evaluated
/// with JsonSchema.Net. Kubernetes' dialect is OpenAPI 3.0; three of its words are rewritten in the
/// JSON Schema they mean: boolean exclusiveMinimum/Maximum (a number in 2020-12),
/// x-kubernetes-int-or-string (integer or string), and — as <c>kubectl apply</c>'s strict field
/// validation does — a field the schema does not list is refused rather than pruned.
/// </summary>
internal static class CrdSchema
{
    public static JsonObject Crd { get; } = YamlJson.Documents(Repository.Read("k8s", "base", "trainingjob-crd.yaml")).Single()!.AsObject();

    public static JsonObject Version => Crd["spec"]!["versions"]!.AsArray().Single()!.AsObject();

    /// <summary>The schema exactly as written in the CRD.</summary>
    public static JsonObject OpenApi => Version["schema"]!["openAPIV3Schema"]!.AsObject();

    /// <summary>The schema in JSON Schema 2020-12 terms (see the class summary).</summary>
    public static JsonNode Converted { get; } = ToJsonSchema(OpenApi.DeepClone());

    public static JsonSchema Schema { get; } = JsonSchema.FromText(Converted.ToJsonString());

    /// <summary>Problems of a TrainingJob as "field: message" lines, empty when it is valid.</summary>
    public static IReadOnlyList<string> Problems(JsonNode? trainingJob)
    {
        var results = Schema.Evaluate(trainingJob, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        var problems = new List<string>();
        Collect(results, problems);
        return [.. problems.Distinct()];
    }

    /// <summary>"/spec/optimizer/lr" as "spec.optimizer.lr".</summary>
    public static string Field(string pointer) => pointer.TrimStart('/').Replace('/', '.');

    // Only failing nodes count: a failing branch of an anyOf/oneOf that holds is no problem, and a `not`
    // fails when its subschema holds (JsonSchema.Net reports no message for it; the forbidden set is named here).
    private static void Collect(EvaluationResults node, List<string> problems)
    {
        if (node.IsValid)
        {
            return;
        }

        var field = Field(node.InstanceLocation.ToString());
        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            problems.Add($"{field}: {keyword}: {message}");
        }

        foreach (var group in node.Details.GroupBy(d => Combinator(d.EvaluationPath.ToString())))
        {
            switch (group.Key)
            {
                case "anyOf" or "oneOf" when group.Any(d => d.IsValid):
                    // anyOf holds; oneOf holds, or its "more than one" failure is already the parent's error.
                    break;
                case "not":
                    foreach (var held in group.Where(d => d.IsValid))
                    {
                        var forbidden = Converted.SelectPointer(held.EvaluationPath.ToString())?["required"]?.AsArray().Select(n => n!.GetValue<string>());
                        problems.Add($"{field}: not: may not set all of [{string.Join(", ", forbidden ?? [])}]");
                    }

                    break;
                default:
                    foreach (var child in group)
                    {
                        Collect(child, problems);
                    }

                    break;
            }
        }
    }

    private static string? Combinator(string evaluationPath)
    {
        var parts = evaluationPath.Split('/');
        return parts is [.., "not"] ? "not" : parts is [.., var keyword, _] && keyword is "anyOf" or "oneOf" ? keyword : null;
    }

    private static JsonNode? SelectPointer(this JsonNode root, string pointer)
    {
        var node = (JsonNode?)root;
        foreach (var part in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is JsonArray array ? array[int.Parse(part, System.Globalization.CultureInfo.InvariantCulture)] : node?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
        }

        return node;
    }

    private static JsonNode ToJsonSchema(JsonNode node)
    {
        if (node is JsonObject schema)
        {
            foreach (var bound in new[] { ("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum") })
            {
                if (schema[bound.Item1] is JsonValue flag && flag.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
                {
                    schema.Remove(bound.Item1);
                    if (flag.GetValue<bool>())
                    {
                        var value = schema[bound.Item2]!.DeepClone();
                        schema.Remove(bound.Item2);
                        schema[bound.Item1] = value;
                    }
                }
            }

            if (schema["x-kubernetes-int-or-string"] is JsonValue intOrString && intOrString.GetValue<bool>())
            {
                schema["anyOf"] = new JsonArray(new JsonObject { ["type"] = "integer" }, new JsonObject { ["type"] = "string" });
            }

            foreach (var key in schema.Select(p => p.Key).Where(k => k.StartsWith("x-kubernetes-", StringComparison.Ordinal)).ToList())
            {
                schema.Remove(key);
            }

            if (schema["properties"] is JsonObject properties)
            {
                schema["additionalProperties"] ??= false;
                foreach (var (_, child) in properties)
                {
                    ToJsonSchema(child!);
                }
            }

            foreach (var key in new[] { "items", "additionalProperties", "not" })
            {
                if (schema[key] is JsonObject child)
                {
                    ToJsonSchema(child);
                }
            }

            foreach (var key in new[] { "oneOf", "anyOf", "allOf" })
            {
                foreach (var child in schema[key]?.AsArray() ?? [])
                {
                    ToJsonSchema(child!);
                }
            }
        }

        return node;
    }
}
