namespace Plateau.Contracts.Specs;

public static class PlateauMetricInfo
{
    /// <summary>min for errors and losses, max for accuracies.</summary>
    public static PlateauMode NaturalMode(PlateauMetric metric) =>
        metric == PlateauMetric.ValTop1Accuracy ? PlateauMode.Max : PlateauMode.Min;

    public static bool IsTraining(PlateauMetric metric) => metric == PlateauMetric.TrainLoss;

    /// <summary>How decisions name the metric ("val top-1 error").</summary>
    public static string Describe(PlateauMetric metric) => metric switch
    {
        PlateauMetric.ValTop1Error => "val top-1 error",
        PlateauMetric.ValTop5Error => "val top-5 error",
        PlateauMetric.ValLoss => "val loss",
        PlateauMetric.ValTop1Accuracy => "val top-1 accuracy",
        PlateauMetric.TrainLoss => "train loss",
        _ => metric.ToString(),
    };

    /// <summary>Percentages for error/accuracy metrics, plain numbers for losses.</summary>
    public static bool IsPercentage(PlateauMetric metric) =>
        metric is PlateauMetric.ValTop1Error or PlateauMetric.ValTop5Error or PlateauMetric.ValTop1Accuracy;
}
