using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>How a validation image is scored (docs/worker.md, "Evaluation modes").</summary>
[GenerateSerializer]
public enum EvaluationMode
{
    /// <summary>One centre view: the dataset's evaluation transform (resize 256, centre 224 for ImageNet).</summary>
    [JsonStringEnumMemberName("centerCrop")] CenterCrop,

    /// <summary>Four corners and the centre, each with its mirror; softmax scores averaged over the 10 views.</summary>
    [JsonStringEnumMemberName("tenCrop")] TenCrop,

    /// <summary>The ResNet paper's fully-convolutional test: five scales and their mirrors, softmax scores averaged.</summary>
    [JsonStringEnumMemberName("multiScale")] MultiScale,
}
