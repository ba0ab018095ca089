using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Plateau.Kubernetes;

public sealed class TrainingJobList : IKubernetesObject<V1ListMeta>, IItems<TrainingJob>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{TrainingJob.Group}/{TrainingJob.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "TrainingJobList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<TrainingJob> Items { get; set; } = [];
}
