import type { NewProduct } from './model';

/** The demo catalogue the local stack starts with (SEED_DEMO_CATALOGUE). */
export const demoCatalogue: NewProduct[] = [
  { sku: 'SKU-TSHIRT-BLK-M', name: 'Black T-shirt (M)', price: 1999, currency: 'USD', stock: 500 },
  { sku: 'SKU-HOODIE-GRY-L', name: 'Grey hoodie (L)', price: 4999, currency: 'USD', stock: 200 },
  { sku: 'SKU-MUG-CLASSIC', name: 'Classic mug', price: 1299, currency: 'USD', stock: 1000 },
  { sku: 'SKU-STICKER-PACK', name: 'Sticker pack', price: 499, currency: 'USD', stock: 5000 },
  { sku: 'SKU-CAP-NAVY', name: 'Navy cap', price: 2499, currency: 'USD', stock: 300 },
  { sku: 'SKU-BOTTLE-STEEL', name: 'Steel bottle', price: 2999, currency: 'USD', stock: 400 },
];
