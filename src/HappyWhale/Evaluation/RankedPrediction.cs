namespace HappyWhale.Evaluation;

/// <summary>One individual and the best similarity any of its gallery images reached.</summary>
public readonly record struct IndividualScore(string Id, float Similarity);

/// <summary>
/// The ranked ids for one query (at most five) and the similarity behind each. new_individual carries
/// the threshold it was inserted at; filler ids (not backed by a neighbour) carry NaN.
/// </summary>
public sealed record RankedPrediction(IReadOnlyList<string> Ids, IReadOnlyList<float> Similarities);
