using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Plateau.Kubernetes;

/// <summary>
/// A <c>plateau.dev/v1 TrainingJob</c> (k8s/base/trainingjob-crd.yaml). <see cref="Spec"/> stays JSON: it
/// is a JobSpec without apiVersion and name, read by the same loader as every other spec.
/// </summary>
public sealed class TrainingJob : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "plateau.dev";
    public const string Version = "v1";
    public const string Plural = "trainingjobs";
    public const string KindName = "TrainingJob";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonObject? Spec { get; set; }

    [JsonPropertyName("status")]
    public TrainingJobStatus? Status { get; set; }
}
