using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Contracts.Tests.Specs;

public class JobSpecLoaderTests
{
    public const string ImageNetYaml = """
        apiVersion: plateau/v1
        name: resnet50-imagenet
        model:
          name: resnet50
          options:
            stride_on: 3x3
            zero_init_residual: true
        dataset:
          kind: imagenet
          path: /data/imagenet
        epochs: 90
        batch:
          global: 256
        optimizer:
          lr: 0.1
          momentum: 0.9
          weightDecay: 1e-4
          nesterov: false
        schedule:
          plateau:
            metric: val_top1_error
            mode: min
            factor: 0.1
            patience: 5
            threshold: 1e-4
            thresholdMode: rel
            cooldown: 0
            minLr: 0
          warmup:
            epochs: 5
          linearScaling:
            baseBatch: 256
        evaluation:
          everyEpochs: 1
        workers:
          min: 2
          max: 4
          devicesPerWorker: 1
          rendezvousTimeoutSeconds: 300
        seed: 42
        precision: fp32
        maxRestarts: 3
        """;

    [Fact]
    public void YamlRecipeLoadsEveryField()
    {
        var spec = JobSpecLoader.FromYaml(ImageNetYaml);

        Assert.Equal("resnet50", spec.Model.Name);
        Assert.Equal("3x3", spec.Model.Options["stride_on"]);
        Assert.Equal("true", spec.Model.Options["zero_init_residual"]);
        Assert.Equal(DatasetKind.ImageNet, spec.Dataset.Kind);
        Assert.Equal(90, spec.Epochs);
        Assert.Equal(256, spec.Batch.Global);
        Assert.Equal(1e-4, spec.Optimizer.WeightDecay);
        Assert.Equal(PlateauMetric.ValTop1Error, spec.Schedule.Plateau!.Metric);
        Assert.Equal(PlateauMode.Min, spec.Schedule.Plateau.Mode);
        Assert.Equal(5, spec.Schedule.Plateau.Patience);
        Assert.Equal(5.0, spec.Schedule.Warmup!.Epochs);
        Assert.Equal(4, spec.Workers.Max);
        Assert.Equal(300, spec.Workers.RendezvousTimeoutSeconds);
        Assert.Empty(JobSpecValidator.Validate(spec));
    }

    [Fact]
    public void ASectionGivenAsNullMeansItsDefaultsLikeAnAbsentOne()
    {
        var spec = JobSpecLoader.FromYaml("""
            apiVersion: plateau/v1
            model: {name: resnet20_cifar}
            dataset: {kind: synthetic}
            epochs: 1
            batch: {global: 16}
            evaluation: null
            communication: ~
            optimizer: {lr: 0.1, momentum: null}
            """);

        Assert.Equal(new EvaluationSpec(), spec.Evaluation);
        Assert.Equal(GradientCompression.None, spec.Communication.Compression);
        Assert.Equal(new OptimizerSpec().Momentum, spec.Optimizer.Momentum);
        Assert.Empty(JobSpecValidator.Validate(spec));
    }

    [Fact]
    public void JsonRoundTripKeepsTheSpec()
    {
        var spec = JobSpecLoader.FromYaml(ImageNetYaml);
        var json = JobSpecJson.Serialize(spec);

        var again = JobSpecLoader.FromJson(json);

        Assert.Equal(json, JobSpecJson.Serialize(again));
        Assert.Contains("\"metric\":\"val_top1_error\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFieldIsRefusedWithItsPath()
    {
        var yaml = ImageNetYaml.Replace("  nesterov: false", "  nesterov: false\n  dampening: 0.1", StringComparison.Ordinal);

        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml(yaml));

        Assert.Equal("spec.optimizer.dampening: unknown field 'dampening'", Assert.Single(error.Errors).ToString());
    }

    [Fact]
    public void WrongTypeNamesTheFieldAndTheExpectedType()
    {
        var yaml = ImageNetYaml.Replace("  lr: 0.1", "  lr: fast", StringComparison.Ordinal);

        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml(yaml));

        Assert.Equal("spec.optimizer.lr: expected a number", error.Message);
    }

    [Fact]
    public void BadEnumValueListsTheAllowedOnes()
    {
        var yaml = ImageNetYaml.Replace("kind: imagenet", "kind: mnist", StringComparison.Ordinal);

        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml(yaml));

        Assert.Equal("spec.dataset.kind: expected one of cifar10, imagenet, shards, synthetic", error.Message);
    }

    [Fact]
    public void DuplicateYamlKeyIsRefused()
    {
        var yaml = ImageNetYaml.Replace("epochs: 90", "epochs: 90\nepochs: 30", StringComparison.Ordinal);

        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml(yaml));

        Assert.Equal("spec: is not valid YAML (line 12, column 1): Duplicate key epochs", error.Message);
    }

    [Fact]
    public void QuotedNumbersStayText()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml("epochs: \"90\"\n"));

        Assert.Equal("spec.epochs: expected a whole number", error.Message);
    }

    [Fact]
    public void AWrongValueInsideAListNamesItsIndex()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml("schedule:\n  steps:\n    milestones: [30, sixty, 90]\n"));

        Assert.Equal("spec.schedule.steps.milestones[1]: expected a whole number", error.Message);
    }

    [Fact]
    public void AModelOptionMustBeASingleValue()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml("model:\n  name: resnet50\n  options:\n    se_reduction: [16]\n"));

        Assert.Equal("spec.model.options.se_reduction: must be a single value (text, number, true or false)", error.Message);
    }

    [Fact]
    public void InvalidJsonSaysWhere()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.Parse("{\"epochs\": 90,\n \"model\": }"));

        Assert.Equal("spec: is not valid JSON (line 2, byte 11)", error.Message);
    }

    [Fact]
    public void InvalidYamlSaysWhere()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml("model: [unclosed\n"));

        Assert.StartsWith("spec: is not valid YAML (line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseDetectsJson()
    {
        var spec = JobSpecLoader.Parse("""{"model": {"name": "resnet20_cifar"}, "dataset": {"kind": "synthetic"}, "epochs": 2, "batch": {"global": 64}}""");

        Assert.Equal("resnet20_cifar", spec.Model.Name);
        Assert.Equal(DatasetKind.Synthetic, spec.Dataset.Kind);
        Assert.Equal(0.1, spec.Optimizer.Lr);
    }

    [Theory]
    [InlineData("centerCrop", EvaluationMode.CenterCrop)]
    [InlineData("tenCrop", EvaluationMode.TenCrop)]
    [InlineData("multiScale", EvaluationMode.MultiScale)]
    public void EvaluationModesAreSpelledInCamelCase(string name, EvaluationMode mode)
    {
        var spec = JobSpecLoader.FromYaml($"evaluation: {{mode: {name}}}\n");

        Assert.Equal(mode, spec.Evaluation.Mode);
        Assert.Contains($"\"mode\":\"{name}\"", JobSpecJson.Serialize(spec), StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAnEvaluationModeTheCentreCropIsUsedAndTheLastPartialBatchIsDropped()
    {
        var spec = JobSpecLoader.FromYaml("model: {name: resnet20_cifar}\n");

        Assert.Equal(EvaluationMode.CenterCrop, spec.Evaluation.Mode);
        Assert.True(spec.Batch.DropLast);
        Assert.False(JobSpecLoader.FromYaml("batch: {global: 128, dropLast: false}\n").Batch.DropLast);
    }

    [Fact]
    public void AnUnknownEvaluationModeIsRefusedNamingTheFieldAndTheModes()
    {
        var error = Assert.Throws<JobSpecInvalidException>(() => JobSpecLoader.FromYaml("evaluation: {mode: fiveCrop}\n"));

        Assert.Equal("spec.evaluation.mode: expected one of centerCrop, tenCrop, multiScale", error.Message);
    }
}
