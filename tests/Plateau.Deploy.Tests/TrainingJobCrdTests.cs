using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Kubernetes;

namespace Plateau.Deploy.Tests;

/// <summary>The TrainingJob CRD against the JobSpec types, and the examples against the CRD's own schema.</summary>
public sealed class TrainingJobCrdTests
{
    private const string Example = "se-resnet50-imagenet.yaml";

    public static TheoryData<string> TrainingJobExamples =>
        [.. Directory.GetFiles(Repository.PathOf("examples", "k8s"), "*.yaml")
            .Where(f => YamlJson.Documents(File.ReadAllText(f)).Any(IsTrainingJob))
            .Select(Path.GetFileName)
            .OfType<string>()];

    [Fact]
    public void The_spec_schema_has_exactly_the_JobSpec_fields_with_their_types_and_enum_values()
    {
        var differences = new List<string>();
        var spec = CrdSchema.OpenApi["properties"]!["spec"]!.AsObject();

        CompareObject(typeof(JobSpec), spec, "spec", differences, skip: ["apiVersion", "name"]);

        Assert.Empty(differences);
    }

    [Fact]
    public void The_comparison_notices_a_field_the_schema_lacks_and_a_wrong_enum()
    {
        var spec = CrdSchema.OpenApi["properties"]!["spec"]!.DeepClone().AsObject();
        spec["properties"]!.AsObject().Remove("seed");
        spec["properties"]!["precision"]!["enum"] = new JsonArray("fp32", "fp16");
        var differences = new List<string>();

        CompareObject(typeof(JobSpec), spec, "spec", differences, skip: ["apiVersion", "name"]);

        Assert.Contains(differences, d => d.StartsWith("spec.seed:", StringComparison.Ordinal));
        Assert.Contains(differences, d => d.StartsWith("spec.precision:", StringComparison.Ordinal) && d.Contains("amp", StringComparison.Ordinal));
    }

    [Fact]
    public void Status_phases_cover_every_job_phase_and_the_printer_columns_show_phase_epoch_val_error_and_lr()
    {
        var status = CrdSchema.OpenApi["properties"]!["status"]!["properties"]!.AsObject();
        var phases = status["phase"]!["enum"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal([.. Enum.GetNames<JobPhase>(), TrainingJobPhases.Rejected], phases);

        var columns = CrdSchema.Version["additionalPrinterColumns"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.Equal(["Phase", "Epoch", "Val Error", "LR"], columns.Select(c => c["name"]!.GetValue<string>()).Take(4));
        foreach (var column in columns.Where(c => c["jsonPath"]!.GetValue<string>().StartsWith(".status.", StringComparison.Ordinal)))
        {
            var field = column["jsonPath"]!.GetValue<string>()[".status.".Length..];
            Assert.True(status.ContainsKey(field), $"printer column {column["name"]} shows .status.{field}, which the schema lacks");
            Assert.Equal(status[field]!["type"]!.GetValue<string>(), column["type"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Status_schema_has_exactly_the_fields_the_controller_writes()
    {
        var status = CrdSchema.OpenApi["properties"]!["status"]!["properties"]!.AsObject();
        var written = typeof(TrainingJobStatus).GetProperties().Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>();

        Assert.Equal(written.Order(StringComparer.Ordinal), status.Select(p => p.Key).Order(StringComparer.Ordinal));
        var condition = status["conditions"]!["items"]!["properties"]!.AsObject();
        Assert.Equal(typeof(TrainingJobCondition).GetProperties().Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>().Order(StringComparer.Ordinal),
            condition.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Status_as_the_controller_writes_it_passes_the_CRD_schema_running_or_rejected()
    {
        var running = new TrainingJobStatus
        {
            JobId = "se-resnet50-imagenet", Phase = nameof(JobPhase.Running), Reason = "group formed", ObservedGeneration = 2, Generation = 3,
            WorldSize = 16, Epoch = 12, TotalEpochs = 100, GlobalStep = 15_000, LearningRate = 0.1, ValTop1Error = 0.34, Restarts = 1, LatestCheckpoint = "ckpt-12",
            Conditions = [new TrainingJobCondition { Type = TrainingJobConditions.Submitted, Status = "True", Reason = "Submitted", Message = "m", LastTransitionTime = DateTimeOffset.UtcNow, ObservedGeneration = 2 }],
        };
        var rejected = new TrainingJobStatus
        {
            Phase = TrainingJobPhases.Rejected, Reason = "spec.epochs: must be ≥ 1, got 0",
            Conditions = [new TrainingJobCondition { Type = TrainingJobConditions.Submitted, Status = "False", Reason = "InvalidSpec" }],
        };

        foreach (var status in new[] { running, rejected })
        {
            var job = ExampleJob();
            job["status"] = JsonSerializer.SerializeToNode(status, KubernetesTrainingJobApi.StatusJson);
            Assert.Empty(CrdSchema.Problems(job));
        }

        var wrong = ExampleJob();
        wrong["status"] = JsonSerializer.SerializeToNode(running with { Phase = "Finished" }, KubernetesTrainingJobApi.StatusJson);
        Assert.Contains(CrdSchema.Problems(wrong), p => p.StartsWith("status.phase: enum", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TrainingJobExamples))]
    public void Example_TrainingJobs_pass_the_CRD_schema_and_the_coordinators_spec_validation(string file)
    {
        foreach (var document in YamlJson.Documents(Repository.Read("examples", "k8s", file)).Where(IsTrainingJob))
        {
            Assert.Empty(CrdSchema.Problems(document));
            var job = JsonSerializer.Deserialize<TrainingJob>(document!.ToJsonString())!;
            var spec = JobSpecLoader.Parse(TrainingJobSpecs.ToSpecText(job));
            Assert.Empty(JobSpecValidator.Validate(spec));
            Assert.Equal(job.Metadata.Name, spec.Name);
        }
    }

    [Fact]
    public void The_SE_ResNet50_example_fits_the_gpu_overlays_worker_pool_whose_workers_are_tied_to_no_job()
    {
        var overlay = Overlay.Render("gpu");
        var workers = overlay.ConfigMap("plateau-worker").Data;
        var job = JsonSerializer.Deserialize<TrainingJob>(ExampleJob().ToJsonString())!;
        var spec = JobSpecLoader.Parse(TrainingJobSpecs.ToSpecText(job));

        // Pooled workers: the coordinator's worker pool hands them whichever TrainingJob is forming.
        Assert.DoesNotContain("PLATEAU_Plateau__Worker__JobId", workers.Keys);
        Assert.Equal(int.Parse(workers["PLATEAU_Plateau__Worker__Devices"], System.Globalization.CultureInfo.InvariantCulture), spec.Workers.DevicesPerWorker);
        Assert.InRange(overlay.Workers.Spec.Replicas!.Value, spec.Workers.Min, spec.Workers.Max);
        Assert.Equal(overlay.Workers.Metadata.NamespaceProperty, job.Metadata.NamespaceProperty);
        Assert.Equal(Precision.Fp32, spec.Precision);
    }

    [Theory]
    [InlineData("spec.optimizer.lr", "-0.1", "spec.optimizer.lr: exclusiveMinimum")]
    [InlineData("spec.dataset.kind", "\"imagenet21k\"", "spec.dataset.kind: enum")]
    [InlineData("spec.optimizer.learningRate", "0.1", "spec.optimizer.learningRate: ")]
    [InlineData("spec.workers.devicesPerWorker", "\"8\"", "spec.workers.devicesPerWorker: type")]
    [InlineData("spec.iterations", "1000", "spec: oneOf")]
    [InlineData("spec.schedule.steps", "{\"milestones\": [30, 60]}", "spec.schedule: not: may not set all of [plateau, steps]")]
    [InlineData("spec.model.options.se_reduction", "true", "spec.model.options.se_reduction: ")]
    public void A_broken_TrainingJob_is_refused_with_the_field_named(string field, string value, string expected)
    {
        var job = ExampleJob();
        Set(job, field, JsonNode.Parse(value));

        var problems = CrdSchema.Problems(job);

        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
        // Nothing else is blamed: every problem is about the changed field or an object holding it.
        Assert.All(problems, p => Assert.StartsWith(p[..p.IndexOf(':', StringComparison.Ordinal)], field, StringComparison.Ordinal));
    }

    [Fact]
    public void A_TrainingJob_without_a_model_is_refused_naming_the_missing_field()
    {
        var job = ExampleJob();
        job["spec"]!.AsObject().Remove("model");

        Assert.Contains(CrdSchema.Problems(job), p => p.StartsWith("spec: required", StringComparison.Ordinal) && p.Contains("model", StringComparison.Ordinal));
    }

    /// <summary>
    /// Every numeric bound in the CRD, crossed by one step, is refused by the CRD and by the coordinator's
    /// validator for the same field: the cluster refuses nothing the coordinator accepts, and the reverse.
    /// </summary>
    [Fact]
    public void Every_numeric_bound_of_the_CRD_is_one_the_coordinators_validator_enforces_on_the_same_field()
    {
        var cases = Bounds(CrdSchema.OpenApi["properties"]!["spec"]!.AsObject(), "spec").ToList();
        var checkedCases = 0;
        foreach (var (field, outside) in cases)
        {
            var job = ExampleJob();
            if (!ParentExists(job, field))
            {
                continue;
            }

            // Epochs and iterations (of the job, of the warmup) are either-or: crossing one's bound drops the other.
            var partner = field.EndsWith(".iterations", StringComparison.Ordinal) ? field[..^"iterations".Length] + "epochs" : null;
            if (partner is not null)
            {
                Remove(job, partner);
            }

            Set(job, field, JsonValue.Create(outside));
            Assert.Contains(CrdSchema.Problems(job), p => p.StartsWith(field + ": ", StringComparison.Ordinal));

            var trainingJob = JsonSerializer.Deserialize<TrainingJob>(job.ToJsonString())!;
            var errors = JobSpecValidator.Validate(JobSpecLoader.Parse(TrainingJobSpecs.ToSpecText(trainingJob)));
            Assert.True(errors.Any(e => e.Field == field), $"{field} = {outside}: the CRD refuses it but the validator says [{string.Join("; ", errors)}]");
            checkedCases++;
        }

        Assert.True(checkedCases >= 20, $"only {checkedCases} of {cases.Count} bounds were checked");
    }

    private static IEnumerable<(string Field, double Outside)> Bounds(JsonObject schema, string path)
    {
        foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
        {
            var field = $"{path}.{name}";
            var type = child!["type"]?.GetValue<string>();
            if (type is "integer" or "number")
            {
                var step = type == "integer" ? 1 : 0.5;
                if (child["minimum"] is { } minimum)
                {
                    var exclusive = child["exclusiveMinimum"]?.GetValue<bool>() == true;
                    yield return (field, exclusive ? Number(minimum) : Number(minimum) - step);
                }

                if (child["maximum"] is { } maximum)
                {
                    var exclusive = child["exclusiveMaximum"]?.GetValue<bool>() == true;
                    yield return (field, exclusive ? Number(maximum) : Number(maximum) + step);
                }
            }
            else if (type == "object")
            {
                foreach (var bound in Bounds(child.AsObject(), field))
                {
                    yield return bound;
                }
            }
        }
    }

    private static double Number(JsonNode node) => double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static void CompareObject(Type type, JsonObject schema, string path, List<string> differences, params string[] skip)
    {
        var info = JobSpecJson.Options.GetTypeInfo(type);
        var expected = info.Properties.Where(p => !skip.Contains(p.Name)).ToDictionary(p => p.Name);
        var actual = schema["properties"]?.AsObject() ?? [];
        foreach (var name in expected.Keys.Except(actual.Select(p => p.Key)))
        {
            differences.Add($"{path}.{name}: in {type.Name} but not in the CRD");
        }

        foreach (var (name, _) in actual.Where(p => !expected.ContainsKey(p.Key)))
        {
            differences.Add($"{path}.{name}: in the CRD but not in {type.Name}");
        }

        foreach (var (name, property) in expected)
        {
            if (actual[name] is JsonObject field)
            {
                CompareField(property.PropertyType, field, $"{path}.{name}", differences);
            }
        }
    }

    private static void CompareField(Type type, JsonObject schema, string path, List<string> differences)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var kind = schema["type"]?.GetValue<string>();
        var format = schema["format"]?.GetValue<string>();
        void Expect(string wantedType, string? wantedFormat = null)
        {
            if (kind != wantedType || (wantedFormat is not null && format != wantedFormat))
            {
                differences.Add($"{path}: {type.Name} is {wantedType}{(wantedFormat is null ? "" : "/" + wantedFormat)} in JSON, the CRD says {kind}{(format is null ? "" : "/" + format)}");
            }
        }

        if (type == typeof(int)) { Expect("integer", "int32"); }
        else if (type == typeof(long)) { Expect("integer", "int64"); }
        else if (type == typeof(double)) { Expect("number"); }
        else if (type == typeof(bool)) { Expect("boolean"); }
        else if (type == typeof(string)) { Expect("string"); }
        else if (type.IsEnum)
        {
            Expect("string");
            var names = type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name).ToList();
            var listed = schema["enum"]?.AsArray().Select(v => v!.GetValue<string>()).ToList() ?? [];
            if (!names.SequenceEqual(listed))
            {
                differences.Add($"{path}: {type.Name} is one of [{string.Join(", ", names)}], the CRD lists [{string.Join(", ", listed)}]");
            }
        }
        else if (type == typeof(IReadOnlyDictionary<string, string>))
        {
            Expect("object");
            if (schema["additionalProperties"]?["x-kubernetes-int-or-string"]?.GetValue<bool>() != true)
            {
                differences.Add($"{path}: an option map takes any scalar; the CRD's additionalProperties must be x-kubernetes-int-or-string");
            }
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            Expect("array");
            if (schema["items"] is JsonObject items)
            {
                CompareField(type.GetGenericArguments()[0], items, path + "[]", differences);
            }
        }
        else if (JobSpecJson.Options.GetTypeInfo(type).Kind == JsonTypeInfoKind.Object)
        {
            Expect("object");
            CompareObject(type, schema, path, differences);
        }
        else
        {
            differences.Add($"{path}: no CRD mapping for {type.Name}");
        }
    }

    private static JsonObject ExampleJob() =>
        YamlJson.Documents(Repository.Read("examples", "k8s", Example)).Single()!.AsObject();

    private static bool IsTrainingJob(JsonNode? document) =>
        document?["kind"]?.GetValue<string>() == TrainingJob.KindName && document["apiVersion"]?.GetValue<string>() == "plateau.dev/v1";

    private static bool ParentExists(JsonObject root, string field)
    {
        JsonNode? node = root;
        foreach (var part in field.Split('.')[..^1])
        {
            node = node?[part];
        }

        return node is JsonObject;
    }

    private static void Set(JsonObject root, string field, JsonNode? value)
    {
        var parts = field.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = (node[part] ??= new JsonObject()).AsObject();
        }

        node[parts[^1]] = value;
    }

    private static void Remove(JsonObject root, string field)
    {
        var parts = field.Split('.');
        JsonNode? node = root;
        foreach (var part in parts[..^1])
        {
            node = node?[part];
        }

        (node as JsonObject)?.Remove(parts[^1]);
    }
}
