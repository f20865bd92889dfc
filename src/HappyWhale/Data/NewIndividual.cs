namespace HappyWhale.Data;

/// <summary>The competition's label for "an individual that is not in the training set".</summary>
public static class NewIndividual
{
    public const string Id = "new_individual";
}
