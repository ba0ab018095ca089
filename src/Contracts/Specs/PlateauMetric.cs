using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>The summed validation (or training) metric the plateau schedule watches.</summary>
[GenerateSerializer]
public enum PlateauMetric
{
    [JsonStringEnumMemberName("val_top1_error")] ValTop1Error,
    [JsonStringEnumMemberName("val_top5_error")] ValTop5Error,
    [JsonStringEnumMemberName("val_loss")] ValLoss,
    [JsonStringEnumMemberName("val_top1_accuracy")] ValTop1Accuracy,
    [JsonStringEnumMemberName("train_loss")] TrainLoss,
}
