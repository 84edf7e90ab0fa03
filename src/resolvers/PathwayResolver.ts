import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  InputType,
  Int,
  Mutation,
  Resolver,
  Root,
} from 'type-graphql';
import { Contraindication, EligibilityDecision, Medication } from '../domain/pathway';
import { PatientStatus } from '../domain/patientStatus';
import { Route } from '../domain/plans';
import { Clinician, Consent, EligibilityAssessment, Patient, Prescription } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { DateScalar } from '../entities/scalars';

@InputType()
class BloodPressureInput {
  @Field(() => Int)
  systolic!: number;

  @Field(() => Int)
  diastolic!: number;
}

@InputType()
class RecordEligibilityAssessmentInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => [Contraindication])
  contraindications!: Contraindication[];

  @Field(() => [String], { defaultValue: [] })
  cautions!: string[];

  @Field(() => BloodPressureInput)
  baselineBloodPressure!: BloodPressureInput;

  @Field(() => EligibilityDecision)
  decision!: EligibilityDecision;
}

@InputType()
class RecordConsentInput {
  @Field(() => ID)
  patientId!: string;

  @Field()
  textVersion!: string;

  @Field(() => DateScalar)
  consentedOn!: string;

  @Field()
  acknowledgesRisks!: boolean;

  @Field()
  acknowledgesOffLabelUse!: boolean;

  @Field()
  acknowledgesIntegration!: boolean;
}

@InputType()
class PrescriptionDetailsInput {
  @Field(() => Medication)
  medication!: Medication;

  @Field(() => Route)
  route!: Route;

  @Field(() => Float)
  doseMg!: number;

  @Field(() => Int)
  quantity!: number;

  @Field(() => Int, { defaultValue: 0 })
  refills!: number;
}

@InputType()
class PrescribeInput extends PrescriptionDetailsInput {
  @Field(() => ID)
  patientId!: string;
}

/** The care pathway: screening, consent, prescribing and the patient's status. */
@Resolver()
export class PathwayResolver {
  @Mutation(() => EligibilityAssessment, {
    description: 'PRESCRIBER only. ELIGIBLE cannot stand beside an absolute contraindication.',
  })
  recordEligibilityAssessment(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => RecordEligibilityAssessmentInput) input: RecordEligibilityAssessmentInput,
  ): Promise<EligibilityAssessment> {
    return ctx.records.pathway.recordAssessment({ ...input, baseline: input.baselineBloodPressure });
  }

  @Mutation(() => Consent, {
    description: 'The patient must acknowledge the risks, off-label use and the role of integration.',
  })
  recordConsent(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => RecordConsentInput) input: RecordConsentInput,
  ): Promise<Consent> {
    return ctx.records.pathway.recordConsent(input);
  }

  @Mutation(() => Prescription, {
    description: 'PRESCRIBER only, after an ELIGIBLE assessment and a consent.',
  })
  prescribe(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => PrescribeInput) input: PrescribeInput,
  ): Promise<Prescription> {
    return ctx.records.pathway.prescribe(input);
  }

  @Mutation(() => Prescription, {
    description: 'PRESCRIBER only. Prescriptions are never deleted; a void keeps the record with its reason.',
  })
  voidPrescription(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('reason') reason: string,
  ): Promise<Prescription> {
    return ctx.records.pathway.voidPrescription(id, reason);
  }

  @Mutation(() => Prescription, {
    description: 'PRESCRIBER only. Voids the prescription with the reason and returns its replacement.',
  })
  correctPrescription(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('reason') reason: string,
    @Arg('input', () => PrescriptionDetailsInput) input: PrescriptionDetailsInput,
  ): Promise<Prescription> {
    return ctx.records.pathway.correctPrescription(id, reason, input);
  }

  @Mutation(() => Patient, {
    description:
      'Start treatment (ACTIVE), MAINTENANCE, DISCHARGED (closes the current course; a reason is required), or REFERRED again (opens the next course); screening outcomes come from assessments.',
  })
  changePatientStatus(
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID) patientId: string,
    @Arg('status', () => PatientStatus) status: PatientStatus,
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why the patient is discharged; only with DISCHARGED.',
    })
    reason: string | null,
  ): Promise<Patient> {
    return ctx.records.pathway.changeStatus(patientId, status, reason);
  }

  @Mutation(() => Consent, {
    description:
      'Any care-team clinician, once, with the reason. The consent is kept; no dose follows in its course until a new consent.',
  })
  withdrawConsent(
    @Ctx() ctx: GraphQLContext,
    @Arg('consentId', () => ID) consentId: string,
    @Arg('reason') reason: string,
  ): Promise<Consent> {
    return ctx.records.pathway.withdrawConsent(consentId, reason);
  }
}

@Resolver(() => Consent)
export class ConsentResolver {
  @FieldResolver(() => Clinician, { nullable: true })
  withdrawnBy(@Root() consent: Consent): Promise<Clinician | null> {
    return consent.withdrawnBy ? consent.withdrawnBy.load() : Promise.resolve(null);
  }
}

@Resolver(() => Prescription)
export class PrescriptionResolver {
  @FieldResolver(() => Clinician)
  prescribedBy(@Root() prescription: Prescription): Promise<Clinician> {
    return prescription.prescribedBy.load() as Promise<Clinician>;
  }

  @FieldResolver(() => Prescription, {
    nullable: true,
    description: 'The voided prescription this one corrects.',
  })
  replaces(@Ctx() ctx: GraphQLContext, @Root() prescription: Prescription): Promise<Prescription | null> {
    return ctx.records.pathway.referredPrescription(prescription.replaces);
  }

  @FieldResolver(() => Clinician, { nullable: true })
  voidedBy(@Root() prescription: Prescription): Promise<Clinician | null> {
    return prescription.voidedBy ? prescription.voidedBy.load() : Promise.resolve(null);
  }
}
