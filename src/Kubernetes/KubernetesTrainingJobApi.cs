using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Plateau.Kubernetes;

/// <summary>
/// <see cref="ITrainingJobApi"/> on the Kubernetes API (custom objects, JSON merge patches). This is the
/// part no test here exercises: no API server runs on the build machines.
/// </summary>
public sealed class KubernetesTrainingJobApi(IKubernetes client, string @namespace) : ITrainingJobApi
{
    /// <summary>How status is written: unset fields are left out rather than sent as null (the status schema has no nullable fields).</summary>
    public static JsonSerializerOptions StatusJson { get; } = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public async Task<IReadOnlyList<TrainingJob>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await client.CustomObjects.ListNamespacedCustomObjectAsync<TrainingJobList>(
            TrainingJob.Group, TrainingJob.Version, @namespace, TrainingJob.Plural, cancellationToken: cancellationToken)).Items];

    public Task<TrainingJob> SetFinalizersAsync(TrainingJob job, IReadOnlyList<string> finalizers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        // resourceVersion makes the patch conditional: a concurrent change fails it and the next pass retries.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = job.Metadata.ResourceVersion, ["finalizers"] = new JsonArray([.. finalizers.Select(f => JsonValue.Create(f))]) },
        };
        return client.CustomObjects.PatchNamespacedCustomObjectAsync<TrainingJob>(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
            TrainingJob.Group, TrainingJob.Version, @namespace, TrainingJob.Plural, job.Metadata.Name, cancellationToken: cancellationToken);
    }

    public Task WriteStatusAsync(TrainingJob job, TrainingJobStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var patch = new JsonObject { ["status"] = JsonSerializer.SerializeToNode(status, StatusJson) };
        return client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
            TrainingJob.Group, TrainingJob.Version, @namespace, TrainingJob.Plural, job.Metadata.Name, cancellationToken: cancellationToken);
    }
}
