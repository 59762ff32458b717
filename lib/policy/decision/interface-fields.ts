/**
 * A field of an interface and the same field of each of its implementations are one value:
 * selected through the interface (`... on Product { price }`) it is the implementation's, and
 * selected on the implementation (`... on Book { price }`) it is what the interface describes.
 * The gateway decides a field by the type it is selected on, before it knows what an abstract
 * field will turn out to be, so a rule on either must hold for both, whatever fragment the
 * operation reaches the value through.
 *
 * Compiling gives every such field the most restrictive decision among the interface's and its
 * implementations' (deny over mask over allow; two different masks: deny), and validation warns
 * where the rules decided them differently, so that the officer sees the mistake rather than
 * have it silently resolved.
 */
import { isInterfaceType, type GraphQLInterfaceType, type GraphQLSchema } from 'graphql';
import { policyFields, policyTypes } from './api-schema.ts';
import type { FieldDecision } from './model.ts';
import type { Resolution } from './resolve.ts';
import type { ProblemSink } from '../loading/yaml-source.ts';

/** The interface and every type implementing it (objects, and interfaces that extend it). */
function members(schema: GraphQLSchema, type: GraphQLInterfaceType): string[] {
  const { objects, interfaces } = schema.getImplementations(type);
  return [type.name, ...interfaces.map((sub) => sub.name), ...objects.map((object) => object.name)];
}

function interfaces(schema: GraphQLSchema): GraphQLInterfaceType[] {
  return policyTypes(schema).filter((type): type is GraphQLInterfaceType => isInterfaceType(type));
}

const RESTRICTIVENESS = { allow: 0, mask: 1, deny: 2 } as const;

function stricter(a: FieldDecision, b: FieldDecision): FieldDecision {
  if (a.effect === 'mask' && b.effect === 'mask' && a.mask !== b.mask)
    return Object.freeze({ effect: 'deny', ruleId: a.ruleId });
  return RESTRICTIVENESS[b.effect] > RESTRICTIVENESS[a.effect] ? b : a;
}

/**
 * In place. A field selected on an interface may be any implementation's value: it gets the most
 * restrictive decision of the interface's and every implementation's. A field selected on a type
 * that implements interfaces is what each of those interfaces describes: a rule on the interface
 * field holds there too, so it gets the most restrictive of its own and the interfaces'. (`... on
 * Book { name }` is a book's name whatever a gadget's is.)
 */
export function alignInterfaceFields(fields: Map<string, Map<string, FieldDecision>>, schema: GraphQLSchema): void {
  const own = (typeName: string, fieldName: string): FieldDecision | undefined => fields.get(typeName)?.get(fieldName);
  const aligned: { typeName: string; fieldName: string; decision: FieldDecision }[] = [];
  for (const type of policyTypes(schema)) {
    const related = isInterfaceType(type) ? members(schema, type).slice(1) : [];
    const above = type.getInterfaces().map((parent) => parent.name);
    for (const field of policyFields(type)) {
      let decision = own(type.name, field.name);
      if (!decision) continue;
      for (const name of [...related, ...above]) {
        const other = own(name, field.name);
        if (other) decision = stricter(decision, other);
      }
      aligned.push({ typeName: type.name, fieldName: field.name, decision });
    }
  }
  for (const { typeName, fieldName, decision } of aligned) fields.get(typeName)?.set(fieldName, decision);
}

/** A warning wherever an interface field is decided less strictly than an implementation's, or an implementation's less strictly than the interface's. */
export function reportInterfaceMismatches(resolution: Resolution, schema: GraphQLSchema, sink: ProblemSink): void {
  const reported = new Set<string>();
  const effectOf = (entry: { effect: keyof typeof RESTRICTIVENESS; mask?: string } | undefined): string =>
    entry ? `${entry.effect}${entry.mask ? ` ${entry.mask}` : ''}` : 'deny';
  const rank = (entry: { effect: keyof typeof RESTRICTIVENESS } | undefined): number =>
    RESTRICTIVENESS[entry?.effect ?? 'deny'];
  for (const view of resolution.views) {
    for (const type of interfaces(schema)) {
      for (const field of policyFields(type)) {
        const ofInterface = view.fields.get(type.name)?.get(field.name);
        for (const name of members(schema, type).slice(1)) {
          const ofMember = view.fields.get(name)?.get(field.name);
          if (effectOf(ofInterface) === effectOf(ofMember)) continue;
          // The less strict of the two is the one that does not hold as written.
          const [loose, looseName, strict, strictName] =
            rank(ofInterface) < rank(ofMember)
              ? [ofInterface, type.name, ofMember, name]
              : [ofMember, name, ofInterface, type.name];
          if (!loose) continue;
          const key = `${loose.place.file}|${loose.place.path.join('.')}|${looseName}.${field.name}|${strictName}`;
          if (reported.has(key)) continue;
          reported.add(key);
          sink.warning(
            loose.place,
            'interface-mismatch',
            `${looseName}.${field.name} is ${effectOf(loose)} for ${view.consumer} (${view.purpose}) but ${strictName}.${field.name} is ${effectOf(strict)}: a value of one is a value of the other, so ${looseName}.${field.name} is decided ${effectOf(strict)}`,
            `decide ${type.name}.${field.name} and the same field of the types implementing ${type.name} alike`,
          );
        }
      }
    }
  }
}
