using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum DatasetKind
{
    [JsonStringEnumMemberName("cifar10")] Cifar10,
    [JsonStringEnumMemberName("imagenet")] ImageNet,
    [JsonStringEnumMemberName("shards")] Shards,
    [JsonStringEnumMemberName("synthetic")] Synthetic,
}
